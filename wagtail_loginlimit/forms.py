"""Login forms that tell people how many tries they have left.

Wagtail admin: `WAGTAILADMIN_USER_LOGIN_FORM = "wagtail_loginlimit.forms.LoginForm"`.
Any Django `LoginView`: use `LoginLimitAuthenticationForm`, or mix
`LoginLimitFormMixin` into your own `AuthenticationForm` subclass.
"""

from __future__ import annotations

from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import ngettext
from wagtail.admin.forms.auth import LoginForm as WagtailLoginForm

from .decision import status_of
from .responses import lockout_message


def remaining_message(tries_left: int) -> str:
    return ngettext(
        "%(count)s attempt remaining.", "%(count)s attempts remaining.", tries_left
    ) % {"count": tries_left}


class LoginLimitFormMixin:
    """Adds "N attempts remaining" (or the lockout) to the invalid-login error.

    The same text whether or not the username exists: it comes from the count.
    """

    def get_invalid_login_error(self):
        error = super().get_invalid_login_error()
        status = status_of(getattr(self, "request", None))
        if status is None or not (status.refused or status.counted):
            return error  # nothing counted (plugin off, whitelisted, store down)
        if status.refused:
            return ValidationError(lockout_message(status), code="locked_out")
        # One message, not two red boxes: the error and what is left.
        text = " ".join([*error.messages, remaining_message(status.tries_left)])
        return ValidationError(text, code=error.code)


class LoginLimitAuthenticationForm(LoginLimitFormMixin, AuthenticationForm):
    pass


class LoginForm(LoginLimitFormMixin, WagtailLoginForm):
    pass
