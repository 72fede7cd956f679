"""Where the counts live, and the operations a login makes on them.

Two stores implement one interface (`base.CounterStore`): the database
(`FailureCounter`, the default) and Redis through a Django cache
(`WAGTAIL_LOGINLIMIT = {"store": "cache", "cache_alias": "…"}`). Both apply the
rules of `policy`, atomically across processes and servers. Lockout records,
deactivation records and axes' logs always stay in the database, where the
admin reports read them.

An unreachable store raises `StoreUnavailable`; `decision` decides what the
login gets (`on_store_error`, see `errors`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from django.utils import timezone

from .. import policy
from ..clients import ClientIdentity, CounterKey
from ..code_settings import code_value
from ..models import FailureCounter, Lockout
from ..networks import is_network, limits_for
from . import database
from .base import SHARED_SCOPES, CounterStore, Match, Scopes
from .cache import CacheStore
from .database import DatabaseStore, counter_state
from .errors import DATABASE_DOWN, StoreUnavailable, log_store_error

__all__ = [
    "DATABASE_DOWN",
    "log_store_error",
    "FailureResult",
    "Forgiven",
    "ResetResult",
    "SHARED_SCOPES",
    "Scopes",
    "StoreUnavailable",
    "begin_attempt",
    "counter_state",
    "counters",
    "forgive",
    "get_store",
    "peek",
    "record_failure",
    "release",
    "clear_and_lift",
    "clear_and_lift_many",
]

_database_store = DatabaseStore()
_cache_stores: dict[str, CounterStore] = {}


def get_store() -> CounterStore:
    """The store `WAGTAIL_LOGINLIMIT["store"]` names (read without the database)."""
    if code_value("store") != "cache":
        return _database_store
    alias = code_value("cache_alias")
    if alias not in _cache_stores:
        _cache_stores[alias] = CacheStore(alias)
    return _cache_stores[alias]


@contextmanager
def unavailable_as(store: CounterStore) -> Iterator[None]:
    """Turn "cannot reach the server" errors of the database or Redis into
    `StoreUnavailable`; anything else (a bug) propagates unchanged."""
    try:
        yield
    except StoreUnavailable:
        raise
    except DATABASE_DOWN as error:
        raise StoreUnavailable("database", error) from error
    except Exception as error:
        if _is_redis_error(error):
            raise StoreUnavailable(store.name, error) from error
        raise


def _is_redis_error(error: Exception) -> bool:
    try:
        from redis.exceptions import RedisError
    except ImportError:
        return False
    return isinstance(error, RedisError)


# --- the operations of a login ---


def begin_attempt(
    keys: list[CounterKey], now: datetime, limits: policy.Limits
) -> policy.Verdict:
    """Decide whether the client may try a password; if so, reserve the try."""
    store = get_store()
    with unavailable_as(store):
        return store.begin_attempt(keys, now, limits)


def peek(
    keys: list[CounterKey], now: datetime, limits: policy.Limits
) -> policy.Verdict:
    """The verdict without reserving anything (for display and `is_locked`)."""
    store = get_store()
    with unavailable_as(store):
        return store.peek(keys, now, limits)


def release(keys: list[CounterKey], now: datetime, limits: policy.Limits) -> None:
    """Give back a reserved try that ended in neither a failure nor a login."""
    store = get_store()
    with unavailable_as(store):
        store.release(keys, now, limits)


@dataclass
class FailureResult:
    """What one recorded failure did."""

    failures: int  # the highest count among the client's counters
    tries_left: int
    lockouts: list[Lockout] = field(default_factory=list)
    # When the client's next try may come (`progressive_delay`; None: at once).
    wait_until: datetime | None = None


def record_failure(
    keys: list[CounterKey], client: ClientIdentity, now: datetime, limits: policy.Limits
) -> FailureResult:
    """Count a failure on each of the client's counters, against the account
    the attempt named (for a later login's forgiveness); record any lockout."""
    store = get_store()
    result = FailureResult(failures=0, tries_left=limits.allowed_retries)
    account = policy.account_tag(client.username)
    with unavailable_as(store), store.transaction():
        for outcome in store.add_failure(keys, now, limits, account):
            lockout = outcome.lockout
            count = lockout.failure_count if lockout else outcome.state.failures
            rules = limits_for(outcome.key, limits)
            if not is_network(outcome.key):  # the client's count, not its network's
                result.failures = max(result.failures, count)
                until = policy.delayed_until(outcome.state, rules)
                if until is not None and not lockout:
                    result.wait_until = max(until, result.wait_until or until)
            result.tries_left = min(
                result.tries_left, policy.tries_left(outcome.state, rules)
            )
            if lockout:
                result.lockouts.append(_record_lockout(outcome.key, lockout, client))
    return result


def _record_lockout(
    key: CounterKey, lockout: policy.StartedLockout, client: ClientIdentity
) -> Lockout:
    return Lockout.objects.create(
        key=key.digest,
        scope=key.scope,
        ip_address=client.ip_address,
        ip_group=key.ip_group or "",
        username=key.username or "",
        started_at=lockout.started_at,
        ends_at=lockout.ends_at,
        is_long=lockout.is_long,
        failure_count=lockout.failure_count,
        number=lockout.number,
        entry_point=key.entry_point,
    )


@dataclass(frozen=True)
class Forgiven:
    """Failures one counter forgave an account that signed in."""

    key: CounterKey
    failures: int


def forgive(
    keys: list[CounterKey],
    username: str,
    now: datetime,
    limits: policy.Limits,
    *,
    release: bool = False,
) -> list[Forgiven]:
    """`username` (normalised) signed in: forgive it its failures on each of
    `keys` (counters that count other accounts too, an IP's), atomically, and
    give back the try its login reserved if `release`. Lockouts in force stay.
    Returns the counters that forgave anything."""
    store = get_store()
    account = policy.account_tag(username)
    with unavailable_as(store):
        counts = store.forgive(keys, account, now, limits, release=release)
    return [
        Forgiven(key, count) for key, count in zip(keys, counts, strict=True) if count
    ]


@dataclass
class ResetResult:
    """The counters a reset forgot and the active lockouts it lifted, as they
    were before."""

    counters: list[FailureCounter] = field(default_factory=list)
    lockouts: list[Lockout] = field(default_factory=list)


def clear_and_lift(
    *,
    keys: list[CounterKey] | None = None,
    ip_group: str | None = None,
    username: str | None = None,
    everything: bool = False,
    reason: str = "",
    by=None,
    now: datetime | None = None,
) -> ResetResult:
    """Forget counts and lift active lockouts: of exact counter `keys` (a login),
    or of every counter that involves `ip_group` and/or `username` (an unlock)."""
    now = now or timezone.now()
    if keys is not None:
        match = Match(digests=tuple(key.digest for key in keys))
    elif everything:
        match = Match(everything=True)
    elif ip_group is not None or username is not None:
        match = Match(ip_group=ip_group, username=username)
    else:
        raise ValueError(
            "clear_and_lift() needs keys, ip_group, username or everything."
        )
    store = get_store()
    with unavailable_as(store), database.atomic():
        return _reset(store, match, reason=reason, by=by, now=now)


def clear_and_lift_many(
    scopes: Scopes,
    *,
    reason: str = "",
    by=None,
    now: datetime | None = None,
) -> ResetResult:
    """`clear_and_lift()` of many clients at once (a bulk unlock): what resetting each of
    `scopes` in turn would forget and lift, in one transaction and a few
    queries per `database.BATCH` scopes rather than per client."""
    now = now or timezone.now()
    result = ResetResult()
    store = get_store()
    with unavailable_as(store), database.atomic():
        for part in scopes.chunks(database.BATCH):
            match = Match(scopes=part)
            result.counters += database.clear_rows(match)
            if store is not _database_store:
                result.counters += store.clear(match)
        result.lockouts = _lift(_active_lockouts_of(scopes, now), reason, by, now)
    return result


def _active_lockouts_of(scopes: Scopes, now: datetime) -> list[int]:
    """The ids of the active lockouts `scopes` include. Lockouts are not indexed
    by IP group or username: one pass over the active ones, matched here, costs
    less than a scan of the table for each batch of scopes."""
    active = Lockout.objects.active(now).values_list("pk", "ip_group", "username")
    return [
        pk
        for pk, ip_group, username in active.iterator(chunk_size=2000)
        if scopes.includes(ip_group, username)
    ]


def _lift(pks: list[int], reason: str, by, now: datetime) -> list[Lockout]:
    """Lift the lockouts `pks` that are still active; return them as they were."""
    lifted: list[Lockout] = []
    for batch in database.in_batches(sorted(pks)):
        rows = list(Lockout.objects.active(now).filter(pk__in=batch).order_by("pk"))
        _mark_lifted([row.pk for row in rows], reason, by, now)
        lifted += rows
    return lifted


def _mark_lifted(pks: list[int], reason: str, by, now: datetime) -> None:
    for batch in database.in_batches(pks):
        Lockout.objects.filter(pk__in=batch).update(
            lifted_at=now, lifted_by=by, lift_reason=reason
        )


def _reset(
    store: CounterStore, match: Match, *, reason: str, by, now: datetime
) -> ResetResult:
    """Clear the counters and lift the lockouts of `match` (inside the caller's
    transaction)."""
    # Rows in the database are cleared whatever the store: with the cache
    # store, rows left from a time the site used the database store.
    counters = database.clear_rows(match)
    if store is not _database_store:
        counters += store.clear(match)
    lockouts = list(Lockout.objects.active(now).filter(database.match_q(match)))
    _mark_lifted([lockout.pk for lockout in lockouts], reason, by, now)
    return ResetResult(counters=counters, lockouts=lockouts)


def counters(
    *, ip_group: str | None = None, username: str | None = None
) -> list[FailureCounter]:
    """The stored counters (of an IP group and/or a username, or all), as
    `FailureCounter` instances whatever the store, sorted by key. With the
    cache store, rows still in the database (from before a switch) are
    included, since a reset clears them too."""
    if ip_group is None and username is None:
        match = Match(everything=True)
    else:
        match = Match(ip_group=ip_group, username=username)
    store = get_store()
    with unavailable_as(store):
        found = _database_store.counters(match)
        if store is not _database_store:
            found += store.counters(match)
    return sorted(found, key=lambda counter: counter.key)
