"""Django REST framework authentication that counts rejected credentials.
Wagtail's API (and any DRF view) takes them in `REST_FRAMEWORK`:

    REST_FRAMEWORK = {
        "DEFAULT_AUTHENTICATION_CLASSES": [
            "wagtail_loginlimit.drf.LoginLimitBasicAuthentication",
            "wagtail_loginlimit.drf.LoginLimitTokenAuthentication",
            "rest_framework.authentication.SessionAuthentication",
        ],
    }

- A rejected API token is counted per IP at the `api_token` entry point,
  which has its own, higher limit (`api_token_retries`): a script with a stale
  token does not lock the team's logins out, nor its API at the first tries.
- A Basic password is a password: a wrong one is a failed login, counted and
  limited as logins are (the plain `BasicAuthentication` does that too, through
  `authenticate()`); this class refuses a locked-out client before the
  password is hashed.
- A refused client gets DRF's own JSON answer, `{"detail": …, "retry_after":
  …}`, with HTTP 429 and `Retry-After` (403 for a blacklisted address, 503
  while the store is down), before any credential is looked up.

`LoginLimitAuthenticationMixin` does the same for another token-like class
(it counts what the class rejects with `AuthenticationFailed`).
"""

from __future__ import annotations

from typing import Any

from rest_framework import authentication, exceptions
from rest_framework.exceptions import ErrorDetail

from . import api, decision, responses
from .clients import API_TOKEN


class Refused(exceptions.APIException):
    """A locked-out (blacklisted, store-down) client's answer, in DRF's form.
    DRF's exception handler sets `Retry-After` from `wait`."""

    status_code = 429
    default_code = "locked_out"

    def __init__(self, judged: decision.Decision) -> None:
        super().__init__(responses.lockout_message(judged), self.default_code)
        if judged.forbidden:
            self.status_code = 403
        elif judged.unavailable:
            self.status_code = 503
        self.wait = (
            responses.UNAVAILABLE_RETRY_AFTER
            if judged.unavailable
            else judged.retry_after
        )
        # The plugin's JSON answer: the wait as a number, not text.
        self.detail = {
            "detail": ErrorDetail(str(self.detail), self.default_code),
            "retry_after": self.wait,
        }


def _answered_here(request: Any) -> None:
    """DRF answers the refusal: axes' middleware must not swap its JSON for
    the lockout page."""
    decision.django_request(request).axes_locked_out = False


class LoginLimitAuthenticationMixin:
    """Count what a DRF authentication class rejects (`AuthenticationFailed`)
    per IP at `entry_point`, and refuse a client locked out there before the
    class looks its credentials up. Requests without this class's
    `Authorization` keyword are left to the class untouched."""

    entry_point: str = API_TOKEN
    keyword: str = "Token"

    def offers_credentials(self, request: Any) -> bool:
        header = authentication.get_authorization_header(request).split()
        return bool(header) and header[0].lower() == self.keyword.lower().encode()

    def authenticate(self, request):
        if not self.offers_credentials(request):
            return super().authenticate(request)
        # Read only: every API request asks, and a token is too long to guess
        # in a burst of parallel requests.
        judged = api.check(request, self.entry_point, reserve=False)
        if judged.refused:
            raise Refused(judged.decision)
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            judged = api.failed(request, self.entry_point)
            if judged.refused:  # this failure began a lockout
                raise Refused(judged.decision) from None
            raise


class LoginLimitTokenAuthentication(
    LoginLimitAuthenticationMixin, authentication.TokenAuthentication
):
    """DRF's `TokenAuthentication` ("Authorization: Token …"), counted."""


class LoginLimitBasicAuthentication(authentication.BasicAuthentication):
    """DRF's `BasicAuthentication`: a wrong password counts as a failed login
    (through `authenticate()`, as always); a client locked out of logging in
    gets DRF's JSON 429 before its password is hashed."""

    def authenticate_credentials(self, userid, password, request=None):
        if request is not None:
            judged = decision.decide(request, userid, reserve=False, early=True)
            if judged.refused and not judged.unavailable:
                raise Refused(judged)
        try:
            return super().authenticate_credentials(userid, password, request)
        except exceptions.AuthenticationFailed:
            judged = decision.status_of(request)
            if judged is not None and judged.refused:
                _answered_here(request)
                raise Refused(judged) from None
            raise
