"""What a refused login gets back: a page in the Wagtail admin look (or JSON for
API clients) with HTTP 429 and `Retry-After` for a lockout, 403 for a
blacklisted address, 503 while the store cannot be reached. Nothing in it
depends on whether the username exists, and the username is never echoed."""

from __future__ import annotations

from datetime import timedelta

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.timesince import timeuntil
from django.utils.translation import gettext as _
from wagtail.admin.views.account import password_reset_enabled

from . import known_devices, waiting
from .decision import Decision, ensure_record, record_of, refused_by_something_else

TEMPLATE = "wagtail_loginlimit/lockout.html"
# For a login outside the Wagtail admin: a plain page a site gives its own look
# by overriding `wagtail_loginlimit/public/base.html`.
PUBLIC_TEMPLATE = "wagtail_loginlimit/public/lockout.html"
UNAVAILABLE_TEMPLATE = "wagtail_loginlimit/unavailable.html"
UNAVAILABLE_PLAIN_TEMPLATE = "wagtail_loginlimit/unavailable_plain.html"
# Seconds a client is asked to wait while the store is down: a restart or
# fail-over, not an outage.
UNAVAILABLE_RETRY_AFTER = 30


# The field of the lockout page's "Email me a sign-in link" (`sign_in_links`).
SIGN_IN_LINK_FIELD = "loginlimit_sign_in_link"
# The login form's "Email me a sign-in link" link in attack mode: a page of
# the login view with the form that asks (`challenge`, `sign_in_links`).
SIGN_IN_LINK_PAGE = "loginlimit_sign_in_link_page"


def lockout_message(status: Decision) -> str:
    if status.blacklisted:
        return _("Logins from your network are not allowed.")
    if status.forbidden:
        return _("Logins are allowed only from the site's own networks.")
    if status.unavailable:
        return unavailable_message()
    if status.locked_until is None:
        return _("Too many failed login attempts. Please try again later.")
    if status.delayed:
        return " ".join([too_soon(), waiting.wait_text(status.retry_after or 1)])
    wait = _wait(status)
    if status.busy:
        return _(
            "Too many login attempts at once. Please try again in %(duration)s."
        ) % {"duration": wait}
    return _("Too many failed login attempts. You can try again in %(duration)s.") % {
        "duration": wait
    }


def too_soon() -> str:
    return _("Too soon after a failed login.")


def page_message(status: Decision) -> str:
    """`lockout_message` for a page: the progressive delay's wait counts down."""
    if status.delayed:
        return format_html(
            "{} {}", too_soon(), waiting.countdown(status.retry_after or 1)
        )
    return lockout_message(status)


def unavailable_message() -> str:
    return _(
        "Signing in is temporarily unavailable. Please try again in a few minutes."
    )


def _wait(status: Decision) -> str:
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


def lockout_response(
    request: HttpRequest, status: Decision, template: str | None = None
) -> HttpResponse:
    code = 403 if status.forbidden else 429
    if wants_json(request):
        response: HttpResponse = JsonResponse(
            {"detail": lockout_message(status), "retry_after": status.retry_after},
            status=code,
        )
    else:
        admin = in_wagtail_admin(request)
        locked_until = status.locked_until
        if locked_until is not None and not status.delayed:
            locked_until = timezone.localtime(locked_until)
        else:
            locked_until = None  # a wait of seconds: the countdown says it
        response = TemplateResponse(
            request,
            template or (TEMPLATE if admin else PUBLIC_TEMPLATE),
            {
                "message": page_message(status),
                "delayed": status.delayed,
                "countdown_script": waiting.SCRIPT,
                "retry_after": status.retry_after,
                "locked_until": locked_until,
                "ends_today": locked_until is not None
                and locked_until.date() == timezone.localdate(status.now),
                "is_long": status.is_long,
                "blacklisted": status.forbidden,
                "back_url": request.path,
                "password_reset_url": password_reset_url(admin),
                "sign_in_link": _offers_sign_in_link(request, status),
                "sign_in_link_field": SIGN_IN_LINK_FIELD,
            },
            status=code,
        )
        response.render()
    if status.retry_after:
        response["Retry-After"] = str(status.retry_after)
    response["Cache-Control"] = "no-store"
    return response


def _offers_sign_in_link(request: HttpRequest, status: Decision) -> bool:
    """The lockout page of a login offers "Email me a sign-in link" (known
    devices on; not for a blacklist, a wait of seconds or another door)."""
    return (
        known_devices.enabled()
        and status.entry_point.is_login
        and not status.forbidden
        and not status.delayed
        and not status.unavailable
    )


def in_wagtail_admin(request: HttpRequest) -> bool:
    """Whether the refused login is the Wagtail admin's (its look), not one of
    the site's own (a plain page the site can style)."""
    try:
        admin_root = reverse("wagtailadmin_home")
    except NoReverseMatch:
        return False
    return request.path.startswith(admin_root)


def password_reset_url(admin: bool) -> str | None:
    """Where a locked-out person can reset the password, if the site has it:
    Wagtail's reset in the admin (unless `WAGTAIL_PASSWORD_RESET_ENABLED` is
    off, as Wagtail's own login page decides), Django's `password_reset` view
    elsewhere."""
    if admin and not password_reset_enabled():
        return None
    name = "wagtailadmin_password_reset" if admin else "password_reset"
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def unavailable_response(request: HttpRequest) -> HttpResponse:
    """HTTP 503 in the Wagtail admin look (JSON for API clients). Nothing in it
    depends on the username or the database."""
    text = unavailable_message()
    if wants_json(request):
        response: HttpResponse = JsonResponse(
            {"detail": text, "retry_after": UNAVAILABLE_RETRY_AFTER}, status=503
        )
    else:
        context = {"message": text, "back_url": request.path}
        try:
            response = TemplateResponse(
                request, UNAVAILABLE_TEMPLATE, context, status=503
            )
            response.render()
        except DatabaseError:
            # The admin look reads the signed-in user's theme from the database;
            # with the database down, a plain page is better than a 500.
            body = render_to_string(UNAVAILABLE_PLAIN_TEMPLATE, context)
            response = HttpResponse(body, status=503)
    response["Retry-After"] = str(UNAVAILABLE_RETRY_AFTER)
    response["Cache-Control"] = "no-store"
    return response


def refusal_response(request: HttpRequest, template: str | None = None) -> HttpResponse:
    """The page for a refused attempt, made once per request (`template`: a
    page of the site's own look instead of the Wagtail admin's)."""
    record = ensure_record(request)
    if record.response is None:
        status = record.decision
        if status is None or status.allowed:
            # Flagged by something other than this plugin's decision.
            status = refused_by_something_else()
        if status.unavailable:
            record.response = unavailable_response(request)
        else:
            record.response = lockout_response(request, status, template)
    return record.response


def axes_lockout_response(request, original_response=None, credentials=None):
    """`AXES_LOCKOUT_CALLABLE`: axes' middleware calls it for every request
    flagged as locked out."""
    return refusal_response(request)


def response_for_exception(request: HttpRequest, exception: Exception):
    """The 503 for a database error raised while a login that was refused for
    that very reason renders (Wagtail's login page reads the database); None,
    so Django handles it as usual, for anything else."""
    record = record_of(request)
    status = record.decision if record else None
    if (
        isinstance(exception, DatabaseError)
        and status is not None
        and status.unavailable
    ):
        return unavailable_response(request)
    return None
