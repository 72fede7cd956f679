"""What a refused or locked-out login gets back: a page in the Wagtail admin look
(or JSON for API clients) with HTTP 429 and `Retry-After`; 403 for a blacklisted
address. Nothing in it depends on whether the username exists, and the username
is never echoed."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.timesince import timeuntil
from django.utils.translation import gettext as _

from .handler import LoginStatus, status_for
from .policy import LOCKED, Verdict

TEMPLATE = "wagtail_loginlimit/lockout.html"


def lockout_message(status: LoginStatus) -> str:
    if status.blacklisted:
        return _("Logins from your network are not allowed.")
    if status.locked_until is None:
        return _("Too many failed login attempts. Please try again later.")
    wait = timeuntil(status.locked_until, status.now)
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
    handler flagged as locked out."""
    status = status_for(request)
    if status is not None and status.unavailable:
        from .unavailable import unavailable_response  # imports this module

        return unavailable_response(request)
    if status is None:
        # Flagged by something other than this plugin's handler.
        status = LoginStatus(Verdict(LOCKED, 0), timezone.now())
    return lockout_response(request, status)
