"""Login forms that tell people how many tries they have left.

Wagtail admin: `WAGTAILADMIN_USER_LOGIN_FORM = "wagtail_loginlimit.forms.LoginForm"`.
Django admin: `AdminLoginForm` and a login template that shows its challenge,
set on `admin.site` when the app starts (unless the site set a `login_form` or
`login_template` of its own); another `AdminSite` sets `login_form =
AdminLoginForm` and `login_template = "wagtail_loginlimit/admin/login.html"`
itself.
Any Django `LoginView`: use `LoginLimitAuthenticationForm`, or mix
`LoginLimitFormMixin` into your own `AuthenticationForm` subclass.
"""

from __future__ import annotations

from django.apps import apps
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.utils.html import format_html
from django.utils.translation import ngettext
from wagtail.admin.forms.auth import LoginForm as WagtailLoginForm

from . import challenge, waiting
from .decision import status_of
from .responses import page_message


def remaining_message(tries_left: int) -> str:
    return ngettext(
        "%(count)s attempt remaining.", "%(count)s attempts remaining.", tries_left
    ) % {"count": tries_left}


class LoginLimitFormMixin:
    """Adds "N attempts remaining" (or the lockout) to the invalid-login error,
    and with the progressive delay how long to wait, counting down (the
    form's `media` has the script; Wagtail's login page gets it from a hook).

    The same text whether or not the username exists: it comes from the count.
    """

    class Media:
        js = [waiting.SCRIPT]

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        self._add_challenge_if_due()

    def _add_challenge_if_due(self) -> None:
        """The challenge field, once the client's failures reached
        `captcha_after` (for the name posted, if any)."""
        if challenge.FIELD_NAME in self.fields:
            return
        typed = self.data.get("username") if self.is_bound else None
        if challenge.required(self.request, typed if isinstance(typed, str) else None):
            field = challenge.field()
            if challenge.offers_sign_in_link(self.request):
                field.widget.offers_sign_in_link = True
            self.fields[challenge.FIELD_NAME] = field

    def clean(self):
        if challenge.FIELD_NAME in self.fields:
            # Passed only if the field was cleaned without error: a field added
            # after the fields were cleaned (a failure made it due) is not.
            if challenge.FIELD_NAME not in self.cleaned_data:
                # No challenge passed: no password is checked, nothing counted.
                challenge.mark(self.request, challenge.REFUSED)
                return self.cleaned_data
            challenge.mark(self.request, challenge.PASSED)
        return super().clean()

    def get_invalid_login_error(self):
        error = super().get_invalid_login_error()
        # The failure may have made the challenge due: show it at once.
        self._add_challenge_if_due()
        status = status_of(getattr(self, "request", None))
        if status is None or not (status.refused or status.counted):
            return error  # nothing counted (plugin off, whitelisted, store down)
        if status.refused:
            return ValidationError(page_message(status), code="locked_out")
        # One message, not two red boxes: the error and what is left.
        text = " ".join([*error.messages, remaining_message(status.tries_left)])
        wait = status.wait_seconds
        if wait:
            # Safe HTML (the countdown): Django renders a form error as given.
            return ValidationError(
                format_html("{} {}", text, waiting.countdown(wait)), code=error.code
            )
        return ValidationError(text, code=error.code)


class LoginLimitAuthenticationForm(LoginLimitFormMixin, AuthenticationForm):
    pass


class LoginForm(LoginLimitFormMixin, WagtailLoginForm):
    pass


class AdminLoginForm(LoginLimitFormMixin, AdminAuthenticationForm):
    """The Django admin's login form with "N attempts remaining".

    The right password of an account that may not use the admin (not staff)
    gets the admin's "enter the correct username and password for a staff
    account", as without this plugin; it is counted as the failed admin login
    it is, so the count on the page cannot tell a right password from a wrong
    one."""

    def confirm_login_allowed(self, user):
        try:
            super().confirm_login_allowed(user)
        except ValidationError as refused:
            if refused.code != "invalid_login":
                raise  # e.g. "This account is inactive."
            user_login_failed.send(
                sender=__name__,
                credentials={"username": self.cleaned_data.get("username")},
                request=self.request,
            )
            raise self.get_invalid_login_error() from None


ADMIN_LOGIN_TEMPLATE = "wagtail_loginlimit/admin/login.html"


def use_on_django_admin() -> None:
    """`AdminLoginForm` for the default admin site (`django.contrib.admin.site`)
    unless the site has chosen a login form of its own."""
    if not apps.is_installed("django.contrib.admin"):
        return
    if admin.site.login_form is None:
        admin.site.login_form = AdminLoginForm
    if admin.site.login_template is None:
        # Django's renders the username and password only: not the challenge.
        admin.site.login_template = ADMIN_LOGIN_TEMPLATE
