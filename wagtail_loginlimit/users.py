"""Looking accounts up the way Django's `ModelBackend` does, for code that must
know which account a typed name belongs to (deactivation, events)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError

from .clients import normalize_username

logger = logging.getLogger(__name__)


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


def account_key(
    typed: str | None,
    request: Any = None,
    identify: Callable[[str, Any], str | None] | None = None,
) -> str | None:
    """What a login's typed name is counted under: `identify_account`'s
    answer (an email address mapped to its account's username, say), so that
    one account has one count whatever identifier is typed. None from the
    callable, or a callable that raises (logged, never a 500), counts what was
    typed."""
    if identify is None or not typed:
        return typed
    try:
        key = identify(str(typed), request)
    except Exception:
        logger.exception(
            "WAGTAIL_LOGINLIMIT['identify_account'] raised; the typed name is counted."
        )
        return typed
    if key is None or key == "":
        return typed
    return str(key)


def existing_usernames(names: Iterable[str]) -> list[str]:
    """The names of `names` (compared normalised, as counted) that belong to an
    existing account, as the accounts spell them."""
    wanted = {normalize_username(name) for name in names if name}
    if not wanted:
        return []
    User = get_user_model()
    field = User.USERNAME_FIELD
    found = []
    for name in sorted(wanted):
        try:
            matches = User._default_manager.filter(**{f"{field}__iexact": name})
            spelled = [str(value) for value in matches.values_list(field, flat=True)]
        except (ValueError, TypeError, ValidationError):
            continue  # a numeric USERNAME_FIELD and text input
        found.extend(value for value in spelled if normalize_username(value) == name)
    return found
