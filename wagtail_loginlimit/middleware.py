"""Refuses locked-out clients early and gives back login tries that ended
without an outcome.

A POST to a login view (any subclass of Django's `LoginView`, Wagtail's admin
login and the Django admin's among them) from a locked-out client is refused
before the view runs: no form is validated and no login page is rendered only
to be replaced by the lockout page, which is what makes a refused login cheap
under attack. Other login code is still refused by the authentication backend,
after its view ran. A GET of a login view from a locked-out IP shows the
lockout page at once.

Before a password is checked, the decision reserves one of the client's tries,
so that a burst of parallel requests cannot all slip past the limit. A failure
or a `login()` settles the reservation; code that calls `authenticate()` alone
(API authentication, for instance) does neither, so this middleware gives the
try back when the response leaves. Place it after `AuthenticationMiddleware`.
It costs no query on requests that did not try a password.

It also answers 400, not 500, for a form body Django refuses to decode
(`refuse_undecodable_form`).
"""

from __future__ import annotations

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.contrib.admin.sites import AdminSite
from django.contrib.auth.views import LoginView
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

from . import (
    decision,
    known_devices,
    outcomes,
    password_reset,
    password_views,
    privacy,
    request_context,
    responses,
    session_cookies,
    sign_in_links,
)
from .handler import LoginLimitHandler, username_of


def is_login_view(view_func) -> bool:
    """A class-based view derived from Django's `LoginView` (decorators made
    with `functools.wraps` keep its `view_class`), or the login of a Django
    admin site (`AdminSite.login`, which runs a `LoginView`)."""
    view_class = getattr(view_func, "view_class", None)
    if isinstance(view_class, type) and issubclass(view_class, LoginView):
        return True
    site = getattr(view_func, "__self__", None)
    return isinstance(site, AdminSite) and view_func.__name__ == "login"


FORM_URLENCODED = "application/x-www-form-urlencoded"


def refuse_undecodable_form(request: HttpRequest) -> None:
    """A urlencoded form body must be UTF-8 (Django 5.1+ refuses
    `charset=utf-16` or `latin-1` with `BadRequest`); one that says it is in
    another charset is answered 400 — never 500. (A charset nobody knows is
    ignored by Django: the body is read as UTF-8, and a login counted.)

    Django raises that `BadRequest` without marking the body as unreadable, so
    its 400 handler, which checks the CSRF token, reads `request.POST` again
    and the second error becomes a 500: on every login page, and every other
    form. This runs before any view middleware (before the CSRF check), marks
    the body unreadable and raises `BadRequest` itself, so Django answers with
    the site's 400 page. A view exempt from CSRF (an API, a webhook that reads
    the raw body) is not refused: its `request.POST` reads as empty where
    Django cannot decode it, and `request.body` is still there."""
    if request.method != "POST" or request.content_type != FORM_URLENCODED:
        return
    # Set only for a charset Python knows; Django reads an unknown one as UTF-8.
    encoding = request.encoding
    if encoding is None or encoding.lower() == "utf-8":
        return
    if _csrf_exempt(request):
        try:
            request.POST  # noqa: B018
        except BadRequest:
            request._mark_post_parse_error()  # Django's own "no form" state
        return
    request._mark_post_parse_error()
    raise BadRequest("A urlencoded form body must be UTF-8 encoded.")


def _csrf_exempt(request: HttpRequest) -> bool:
    try:
        match = resolve(request.path_info, urlconf=getattr(request, "urlconf", None))
    except Resolver404:
        return True  # no view: Django answers 404 without reading the body
    return getattr(match.func, "csrf_exempt", False)


def send_device_cookie(request: HttpRequest, response: HttpResponse) -> None:
    """A login made the browser a known device (`known_devices`): send its
    new cookie with the response."""
    record = decision.record_of(request)
    value = record.extra.pop(known_devices.COOKIE_NAME, None) if record else None
    if value is not None:
        known_devices.set_cookie(request, response, value)


class LoginLimitMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.async_mode:
            return self.__acall__(request)
        refuse_undecodable_form(request)
        try:
            with request_context.handling(request):
                response = self.get_response(request)
                session_cookies.count_if_forged(request)
                send_device_cookie(request, response)
                return response
        finally:
            outcomes.release_unsettled(request)

    async def __acall__(self, request):
        refuse_undecodable_form(request)
        try:
            with request_context.handling(request):
                response = await self.get_response(request)
                if session_cookies.names_no_session(request):
                    await sync_to_async(session_cookies.count_if_forged)(request)
                send_device_cookie(request, response)
                return response
        finally:
            if outcomes.has_unsettled(request):
                await sync_to_async(outcomes.release_unsettled)(request)

    def process_view(
        self, request: HttpRequest, view_func, view_args, view_kwargs
    ) -> HttpResponse | None:
        if not settings.AXES_ENABLED:
            return None
        reset = password_reset.guards(request, view_func)
        if reset is not None:
            # A password-reset request, or a reset link (also on GET).
            return password_reset.guard(
                request, reset, view_func, view_args, view_kwargs
            )
        if is_login_view(view_func) and sign_in_links.handles(request):
            # "Email me a sign-in link", and the link itself: no login.
            return sign_in_links.handle(request)
        if request.method == "GET":
            if is_login_view(view_func) and isinstance(
                AxesProxyHandler.get_implementation(), LoginLimitHandler
            ):
                return self._show_lockout(request)
            return None
        if request.method != "POST":
            return None
        match = getattr(request, "resolver_match", None)
        url_name = match.url_name if match is not None else None
        if privacy.guards(url_name):
            # Wagtail's privacy passwords: counted around the view itself.
            return privacy.guard(request, url_name, view_func, view_args, view_kwargs)
        if password_views.guards(request, url_name, view_func):
            # The old-password check of a password change.
            return password_views.guard(
                request, url_name, view_func, view_args, view_kwargs
            )
        if not is_login_view(view_func):
            return None
        if not isinstance(AxesProxyHandler.get_implementation(), LoginLimitHandler):
            return None
        # A body Django refuses to parse (too large, too many fields) raises
        # here, as it would in the view: a 400, not a login with no username.
        request.POST  # noqa: B018
        AxesProxyHandler.update_request(request)  # axes_ip_address and the rest
        decision.ensure_record(request).via_login_view = True
        # Only a read: the view's own check still reserves the try of a
        # client that is let through.
        judged = decision.decide(
            request, username_of(request), reserve=False, early=True
        )
        if not judged.refused:
            return None
        decision.refuse(request, judged)
        # Axes' middleware asks for the same response again: it is kept.
        return responses.axes_lockout_response(request)

    @staticmethod
    def _show_lockout(request: HttpRequest) -> HttpResponse | None:
        """The login page of a client that is locked out says so at once (with
        what it can know without a username: the IP's lockout), rather than
        after the person typed the password again. Not a refused try: nothing
        is logged."""
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return None  # the view sends a signed-in person on
        AxesProxyHandler.update_request(request)
        judged = decision.decide(request, None, reserve=False, early=True)
        if not judged.refused or judged.delayed:
            # A wait of seconds: the form is shown; a try too soon is refused.
            return None
        decision.ensure_record(request).decision = judged
        return responses.refusal_response(request)

    def process_exception(self, request, exception):
        """A login refused because the store is down must not become a 500 when
        the rest of the page needs the same unreachable database."""
        return responses.response_for_exception(request, exception)
