"""Two-factor codes (django-otp; `pip install wagtail-loginlimit[otp]`): wrong
codes are counted per account at the `otp` entry point, with their own limit
(`otp_retries`), whichever address they come from. A locked-out second step
ends the half-signed-in session (the password must be typed again) and answers
429 with `Retry-After`; no code is verified while the lockout lasts.

    from django_otp.views import LoginView
    from wagtail_loginlimit.otp import (
        LoginLimitOTPAuthenticationForm,
        LoginLimitOTPTokenForm,
    )

    LoginView.as_view(
        otp_authentication_form=LoginLimitOTPAuthenticationForm,
        otp_token_form=LoginLimitOTPTokenForm,
    )

Another two-factor form built on django-otp's (wagtail-2fa's verify form,
for one) takes `LoginLimitOTPMixin` first among its bases. django-otp's own
throttling of a device still applies besides.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import logout
from django.core.exceptions import ValidationError
from django_otp.forms import OTPAuthenticationForm, OTPTokenForm

from . import api, decision, responses
from .clients import OTP
from .forms import LoginLimitFormMixin


class LoginLimitOTPMixin:
    """Count django-otp's "invalid token" per account; refuse a locked-out
    account's codes before they are verified."""

    request: Any = None

    def clean_otp(self, user) -> None:
        request = getattr(self, "request", None)
        token = self.cleaned_data.get("otp_token")
        if user is None or request is None or not token:
            return super().clean_otp(user)  # nothing typed: nothing to count
        key = str(user.pk)
        judged = api.check(request, OTP, key=key)
        if judged.refused:
            self._lock_out(request, judged)
        try:
            super().clean_otp(user)
        except ValidationError as error:
            if getattr(error, "code", None) != "invalid_token":
                raise  # no code was verified (no device chosen, throttled…)
            judged = api.failed(request, OTP, key=key)
            if judged.refused:  # this wrong code began the lockout
                self._lock_out(request, judged)
            raise ValidationError(
                " ".join([*error.messages, api.remaining_message(judged)]),
                code="invalid_token",
            ) from None
        api.succeeded(request, OTP, key=key)

    @staticmethod
    def _lock_out(request, judged: api.Judged) -> None:
        """End the half-signed-in session and let axes' middleware answer
        with the refusal page (429 + `Retry-After`)."""
        if getattr(request, "user", None) is not None and request.user.is_authenticated:
            logout(request)
        decision.mark_locked_out(request)
        raise ValidationError(
            responses.lockout_message(judged.decision), code="locked_out"
        )


class LoginLimitOTPTokenForm(LoginLimitOTPMixin, OTPTokenForm):
    """django-otp's second step (the user signed in with a password already)."""

    def __init__(self, user, request=None, *args, **kwargs):
        super().__init__(user, request, *args, **kwargs)
        self.request = request  # OTPTokenForm does not keep it


class LoginLimitOTPAuthenticationForm(
    LoginLimitOTPMixin, LoginLimitFormMixin, OTPAuthenticationForm
):
    """Username, password and code in one form: the password counts as a
    login ("N attempts remaining"), the code at `otp`."""
