"""What a refused or locked-out login gets back: a page in the Wagtail admin look
(or JSON for API clients) with HTTP 429 and `Retry-After`; 403 for a blacklisted
address. Nothing in it depends on whether the username exists, and the username
is never echoed."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.timesince import timeuntil
from django.utils.translation import gettext as _

from .handler import LoginStatus, status_for
from .policy import LOCKED, Verdict

TEMPLATE = "wagtail_loginlimit/lockout.html"
RESPONSE_ATTR = "loginlimit_response"


def lockout_message(status: LoginStatus) -> str:
    if status.blacklisted:
        return _("Logins from your network are not allowed.")
    if status.locked_until is None:
        return _("Too many failed login attempts. Please try again later.")
    wait = _wait(status)
    if status.is_long:
        return _(
            "Too many failed login attempts, again and again: logins are blocked "
            "for %(duration)s."
        ) % {"duration": wait}
    if status.verdict.status == "busy":
        return _(
            "Too many login attempts at once. Please try again in %(duration)s."
        ) % {"duration": wait}
    return _("Too many failed login attempts. You can try again in %(duration)s.") % {
        "duration": wait
    }


def _wait(status: LoginStatus) -> str:
    """How long until the lockout ends, rounded up to the minute: a lockout of
    20 minutes reads "20 minutes" (as `Retry-After: 1200` says), not 19."""
    seconds = status.retry_after or 0
    minutes = -(-seconds // 60)
    return timeuntil(status.now + timedelta(minutes=minutes), status.now)


def wants_json(request: HttpRequest) -> bool:
    accept = request.META.get("HTTP_ACCEPT", "")
    return request.META.get("HTTP_X_REQUESTED_WITH") == "XMLHttpRequest" or (
        "application/json" in accept and "text/html" not in accept
    )


def lockout_response(request: HttpRequest, status: LoginStatus) -> HttpResponse:
    message = lockout_message(status)
    code = 403 if status.blacklisted else 429
    if wants_json(request):
        response: HttpResponse = JsonResponse(
            {"detail": message, "retry_after": status.retry_after}, status=code
        )
    else:
        response = TemplateResponse(
            request,
            TEMPLATE,
            {
                "message": message,
                "locked_until": status.locked_until,
                "is_long": status.is_long,
                "blacklisted": status.blacklisted,
                "now": timezone.now(),
                "back_url": request.path,
            },
            status=code,
        )
        response.render()
    if status.retry_after:
        response["Retry-After"] = str(status.retry_after)
    response["Cache-Control"] = "no-store"
    return response


def axes_lockout_response(request, original_response=None, credentials=None):
    """`AXES_LOCKOUT_CALLABLE`: axes' middleware calls it for every request the
    handler flagged as locked out. Made once per request: a login refused
    before its view ran already has its response when axes asks again."""
    made = getattr(request, RESPONSE_ATTR, None)
    if made is not None:
        return made
    status = status_for(request)
    if status is not None and status.unavailable:
        from .unavailable import unavailable_response  # imports this module

        response = unavailable_response(request)
    else:
        if status is None:
            # Flagged by something other than this plugin's handler.
            status = LoginStatus(Verdict(LOCKED, 0), timezone.now())
        response = lockout_response(request, status)
    setattr(request, RESPONSE_ATTR, response)
    return response
