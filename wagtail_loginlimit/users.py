"""Looking accounts up the way Django's `ModelBackend` does, for code that must
know which account a typed name belongs to (deactivation, events)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError


def find_user(username: str | None):
    """The account a login names, looked up exactly as Django's `ModelBackend`
    does (`get_by_natural_key`), or None."""
    if not username or "\x00" in str(username):
        return None  # no account has such a name; PostgreSQL refuses the lookup
    User = get_user_model()
    try:
        return User._default_manager.get_by_natural_key(username)
    except (
        User.DoesNotExist,
        User.MultipleObjectsReturned,
        ValidationError,
        ValueError,  # e.g. a numeric USERNAME_FIELD and text input
        TypeError,
    ):
        return None
