"""What a login gets while the counters' store cannot be reached, and the one
log line that says so.

`WAGTAIL_LOGINLIMIT["on_store_error"]` chooses: `"refuse"` (the default) answers
HTTP 503 "login is temporarily unavailable" without checking the password, since
a login that cannot be counted cannot be limited either; `"allow"` lets the
login go on unprotected. Either way the log gets one ERROR line, without a
traceback, on the logger `wagtail_loginlimit.store`.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

logger = logging.getLogger("wagtail_loginlimit.store")

REFUSE = "refuse"
ALLOW = "allow"
TEMPLATE = "wagtail_loginlimit/unavailable.html"
PLAIN_TEMPLATE = "wagtail_loginlimit/unavailable_plain.html"
# Seconds a client is asked to wait: a restart or fail-over, not an outage.
RETRY_AFTER = 30
_MAX_ERROR_TEXT = 300


def describe(error: BaseException) -> str:
    """The error on one line: drivers' messages span lines ("Is the server
    running…?"), and a log line must stay one line."""
    cause = getattr(error, "error", None) or error
    text = " ".join(str(cause).split()) or type(cause).__name__
    text = "".join(char if char.isprintable() else "?" for char in text)
    if len(text) > _MAX_ERROR_TEXT:
        text = text[: _MAX_ERROR_TEXT - 1] + "…"
    return f"{type(cause).__name__}: {text}"


def log_store_error(store: str, error: BaseException, consequence: str) -> None:
    """One ERROR line naming the store, the error and what it did to the login."""
    logger.error(
        "Login limits: the %s store cannot be reached (%s); %s.",
        store,
        describe(error),
        consequence,
    )


def message() -> str:
    return _(
        "Signing in is temporarily unavailable. Please try again in a few minutes."
    )


def unavailable_response(request: HttpRequest) -> HttpResponse:
    """HTTP 503 in the Wagtail admin look (JSON for API clients). Nothing in it
    depends on the username or the database."""
    from .responses import wants_json  # responses -> handler -> here

    text = message()
    if wants_json(request):
        response: HttpResponse = JsonResponse(
            {"detail": text, "retry_after": RETRY_AFTER}, status=503
        )
    else:
        context = {"message": text, "back_url": request.path}
        try:
            response = TemplateResponse(request, TEMPLATE, context, status=503)
            response.render()
        except DatabaseError:
            # The admin look reads the signed-in user's theme from the database;
            # with the database down, a plain page is better than a 500.
            body = render_to_string(PLAIN_TEMPLATE, context)
            response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    return response


def response_for_exception(request: HttpRequest, exception: Exception):
    """The 503 for a database error raised while a login that was refused for
    that very reason renders (Wagtail's login page reads the database); None,
    so Django handles it as usual, for anything else."""
    from .handler import status_for

    status = status_for(request)
    if (
        isinstance(exception, DatabaseError)
        and status is not None
        and status.unavailable
    ):
        return unavailable_response(request)
    return None
