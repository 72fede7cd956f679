"""The dashboard panel's figures, kept for up to a minute in Django's `default`
cache, so that a view of the dashboard costs no query in the steady state.

Only data is kept (counts and per-day series), never HTML: the panel is
translated and drawn in each admin's time zone. Entries are per time zone and
local date. One generation token, changed when the plugin itself changes what
the panel shows (a lockout begins, a lockout or count is reset), makes every
entry stale at once, whatever the number of time zones. New failed logins and
changes made outside the plugin show up once an entry expires (`CACHE_SECONDS`).

The `default` cache, not `WAGTAIL_LOGINLIMIT["cache_alias"]`: that one is where
the counters live with the "cache" store (a Redis that must keep them); this is
a display cache like any other of the site's.

A cache that cannot be reached is skipped: the figures are read from the
database, as if nothing were cached.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import time
import uuid
from collections.abc import Callable
from functools import cache as memoize
from typing import Any

from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.db import router, transaction

from . import events
from .models import Lockout

logger = logging.getLogger(__name__)

CACHE_ALIAS = DEFAULT_CACHE_ALIAS
# How long the figures are kept at most, in seconds: how late a new failed
# login may show on the dashboard.
CACHE_SECONDS = 60
KEY_PREFIX = "wagtail_loginlimit:dashboard:v1"
GENERATION_KEY = f"{KEY_PREFIX}:generation"
_SAFE_KEY = re.compile(r"[A-Za-z0-9_+\-/:.]{1,120}")


@memoize
def cache_errors() -> tuple[type[BaseException], ...]:
    """The errors that mean "the cache server cannot be reached" with the
    backends Django and django-redis ship; any other error is a bug and
    propagates."""
    errors: list[type[BaseException]] = [OSError]  # sockets, timeouts
    for module, name in (
        ("redis.exceptions", "RedisError"),
        ("django_redis.exceptions", "ConnectionInterrupted"),
        ("pymemcache.exceptions", "MemcacheError"),
        ("pylibmc", "Error"),
    ):
        try:
            errors.append(getattr(__import__(module, fromlist=[name]), name))
        except (ImportError, AttributeError):
            pass
    return tuple(errors)


def entry_key(scope: str) -> str:
    """A cache key valid on every backend (memcached refuses spaces and keys
    over 250 characters)."""
    if not _SAFE_KEY.fullmatch(scope):
        scope = hashlib.sha256(scope.encode()).hexdigest()
    return f"{KEY_PREFIX}:{scope}"


def cached(scope: str, compute: Callable[[], tuple[dict[str, Any], float]]) -> dict:
    """The data cached under `scope`, or `compute()`'s, then cached.

    `compute` returns the data (plain types only: some sites serialise their
    cache as JSON) and how many seconds it stays true at most. One round trip
    reads the generation token and the entry together."""
    cache = caches[CACHE_ALIAS]
    key = entry_key(scope)
    now = time.time()
    try:
        found = cache.get_many([GENERATION_KEY, key])
    except cache_errors() as error:
        logger.debug("Dashboard cache unreachable, reading the database: %r", error)
        return compute()[0]
    token = found.get(GENERATION_KEY)
    entry = found.get(key)
    if token is not None and _is_fresh(entry, token, now):
        return entry["data"]
    # The token is read before the database: if a change lands meanwhile, it
    # changes the token and what is stored here is already stale.
    data, lifetime = compute()
    lifetime = min(lifetime, CACHE_SECONDS)
    if lifetime <= 0:
        return data
    try:
        if token is None:
            token = uuid.uuid4().hex
            cache.add(GENERATION_KEY, token, None)
        cache.set(
            key,
            {"token": token, "expires": now + lifetime, "data": data},
            math.ceil(lifetime),
        )
    except cache_errors() as error:
        logger.debug("Dashboard cache unreachable, figures not kept: %r", error)
    return data


def _is_fresh(entry: Any, token: str, now: float) -> bool:
    return (
        isinstance(entry, dict)
        and entry.get("token") == token
        and isinstance(entry.get("expires"), int | float)
        and entry["expires"] > now
        and isinstance(entry.get("data"), dict)
    )


def invalidate() -> None:
    """Make every cached entry stale: a new generation token."""
    try:
        caches[CACHE_ALIAS].set(GENERATION_KEY, uuid.uuid4().hex, None)
    except cache_errors() as error:
        # The entries expire by themselves within CACHE_SECONDS.
        logger.debug("Dashboard cache unreachable, not invalidated: %r", error)


def on_change(
    sender: Any = None, event: events.LoginLimitEvent | None = None, **kwargs
):
    """`loginlimit_block` / `loginlimit_reset` receiver: invalidate once the
    change is committed (at once outside a transaction), so that no view can
    cache the figures from before it under the new token."""
    if events.once_after_batch(invalidate):
        return  # many events about one change: invalidated once, at its end
    transaction.on_commit(invalidate, using=router.db_for_write(Lockout))


def connect_signals() -> None:
    """Called from `AppConfig.ready()`."""
    for signal in (events.loginlimit_block, events.loginlimit_reset):
        signal.connect(on_change, dispatch_uid=f"{__name__}.on_change")
