"""Known devices (OWASP's "device cookies"): a browser that signed in to an
account is remembered for it, so that what strangers do to the account never
shuts its owner out.

A successful login gives the browser a signed, HttpOnly cookie holding a
random token per account signed in from it (no username, no id: nothing
personal in clear); the database keeps only each token's SHA-256. A login from
a known device is counted under a counter of its own instead of the account's
username (`decision.keys_for`): lockouts by username never refuse it, its
failures never count towards deactivation, and a device that fails too often
is locked out on its own. Its IP and network are counted as anyone's.

The token changes at every sign-in (a copied cookie works until the owner
next signs in), and a device is void once the account's password changes (its
session hash is kept and compared, as Django does for sessions), after
`known_device_age` without a sign-in, when an admin forgets the account's
devices, or when the account has more than `known_devices` of them (the
longest unused go first). A request without the cookie costs no query.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import DatabaseError
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from . import audit_log
from .code_settings import code_value
from .models import KnownDevice
from .users import find_user

logger = logging.getLogger(__name__)

COOKIE_NAME = "loginlimit_device"
_SALT = "wagtail_loginlimit.known_devices"
# Accounts one browser is remembered for (the most recently signed in).
ACCOUNTS_PER_BROWSER = 5
_SEPARATOR = "."  # not in `secrets.token_urlsafe`'s alphabet


def enabled() -> bool:
    return code_value("known_devices") > 0


def max_age() -> timedelta:
    return code_value("known_device_age")


def _hashed(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


def tokens_of(request: Any) -> list[str]:
    """The tokens the request's cookie holds; none for a missing, forged or
    expired cookie."""
    cookies = getattr(request, "COOKIES", None)
    if not cookies or COOKIE_NAME not in cookies:
        return []
    try:
        value = request.get_signed_cookie(
            COOKIE_NAME, salt=_SALT, max_age=max_age().total_seconds()
        )
    except (signing.BadSignature, ValueError):
        return []  # forged, altered or expired: an unknown device
    tokens = [token for token in value.split(_SEPARATOR) if token]
    return tokens[:ACCOUNTS_PER_BROWSER]


def find(request: Any, username: str | None) -> KnownDevice | None:
    """The known device of the account `username` names that `request` comes
    from, or None. No query without the cookie; a device whose account's
    password changed since, or that has not signed in for
    `known_device_age`, is deleted and counts as unknown."""
    if not username or not enabled():
        return None
    tokens = tokens_of(request)
    if not tokens:
        return None
    user = find_user(username)
    if user is None:
        return None
    device = (
        KnownDevice.objects.filter(
            user=user, token_hash__in=[_hashed(token) for token in tokens]
        )
        .select_related("user")
        .first()
    )
    if device is None:
        return None
    stale = device.last_used_at < timezone.now() - max_age()
    if stale or not constant_time_compare(
        device.auth_hash, user.get_session_auth_hash()
    ):
        device.delete()
        return None
    return device


def remember(request: Any, user, device: KnownDevice | None) -> str | None:
    """`user` signed in from `request`'s browser: make (or keep) it a known
    device of the account with a new token, and return the cookie value to
    send (None: known devices are off). `device` is the known device the
    login came from, if any; its old token stops working."""
    if not enabled():
        return None
    now = timezone.now()
    token = secrets.token_urlsafe(32)
    if device is not None and device.user_id == user.pk:
        KnownDevice.objects.filter(pk=device.pk).update(
            token_hash=_hashed(token),
            auth_hash=user.get_session_auth_hash(),
            last_used_at=now,
        )
    else:
        KnownDevice.objects.create(
            user=user,
            token_hash=_hashed(token),
            auth_hash=user.get_session_auth_hash(),
            created_at=now,
            last_used_at=now,
        )
        _keep_newest(user)
    return _SEPARATOR.join([token, *_other_accounts(request, user)])


def remember_or_log(
    request: Any, user, device: KnownDevice | None = None
) -> str | None:
    """`remember()`, for a sign-in that must go on whatever happens: a
    database error is logged and the browser stays a stranger (None)."""
    try:
        return remember(request, user, device)
    except DatabaseError:
        logger.exception("Could not remember the browser that signed in.")
        return None


def _keep_newest(user) -> None:
    """At most `known_devices` devices per account: the longest unused go."""
    keep = code_value("known_devices")
    surplus = KnownDevice.objects.filter(user=user).order_by("-last_used_at", "-pk")[
        keep:
    ]
    KnownDevice.objects.filter(
        pk__in=list(surplus.values_list("pk", flat=True))
    ).delete()


def _other_accounts(request: Any, user) -> list[str]:
    """The cookie's tokens that are still known devices of other accounts,
    kept (at most `ACCOUNTS_PER_BROWSER` in all) when `user` signs in."""
    tokens = tokens_of(request)
    if not tokens:
        return []
    valid = set(
        KnownDevice.objects.filter(token_hash__in=[_hashed(token) for token in tokens])
        .exclude(user=user)
        .values_list("token_hash", flat=True)
    )
    kept = [token for token in tokens if _hashed(token) in valid]
    return kept[: ACCOUNTS_PER_BROWSER - 1]


def set_cookie(request: Any, response, value: str) -> None:
    """Send the known-device cookie: signed, HttpOnly, SameSite=Lax, Secure on
    HTTPS (or where the session cookie is), for `known_device_age`."""
    response.set_signed_cookie(
        COOKIE_NAME,
        value,
        salt=_SALT,
        max_age=int(max_age().total_seconds()),
        httponly=True,
        secure=request.is_secure() or settings.SESSION_COOKIE_SECURE,
        samesite="Lax",
        path="/",
    )


def forget(user, *, by=None) -> int:
    """Forget every known device of `user` (an admin's "Forget known devices",
    the `loginlimit_forget_devices` command; `by` the admin, None for the
    command): each browser is a stranger again until it next signs in.
    Written to the audit log. Returns how many were forgotten."""
    deleted, _ = KnownDevice.objects.filter(user=user).delete()
    if deleted:
        audit_log.log_forgotten_devices(user, deleted, by=by)
    return deleted


def expired(now=None):
    """The devices not used for `known_device_age` (`loginlimit_purge`
    deletes them; they count as strangers already)."""
    cutoff = (now or timezone.now()) - max_age()
    return KnownDevice.objects.filter(last_used_at__lt=cutoff)
