"""An email-or-username login, as many sites have, and the `identify_account`
callable that goes with it."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend


def _by_email(typed: str):
    User = get_user_model()
    return User._default_manager.filter(email__iexact=typed.strip()).first()


class EmailOrUsernameBackend(ModelBackend):
    """Signs in with the username or the account's email address."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username and "@" in username:
            user = _by_email(username)
            if user is None:
                # Hash once, as ModelBackend does for an unknown name.
                get_user_model()().set_password(password)
                return None
            if user.check_password(password) and self.user_can_authenticate(user):
                return user
            return None
        return super().authenticate(
            request, username=username, password=password, **kwargs
        )


def identify(typed: str, request) -> str | None:
    """An email address counts under its account's username; anything else
    as typed."""
    if "@" not in typed:
        return None
    user = _by_email(typed)
    return user.get_username() if user is not None else None


def broken(typed: str, request) -> str | None:
    raise RuntimeError("the directory is down")


NOT_CALLABLE = "a string"
