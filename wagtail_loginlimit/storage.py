"""The counters and lockout records in the database, changed atomically.

Each operation runs in one transaction that locks the client's counter rows
(`SELECT … FOR UPDATE`, in key order so that two requests never deadlock), applies
the pure rules of `policy`, and writes the result back. On SQLite, which has no
row locks, configure `"OPTIONS": {"transaction_mode": "IMMEDIATE"}` so that two
logins serialise instead of failing with "database is locked".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db import router, transaction
from django.db.models import Q
from django.utils import timezone

from . import policy
from .clients import Client, CounterKey
from .models import FailureCounter, Lockout


def counter_state(row: FailureCounter) -> policy.CounterState:
    return policy.CounterState(
        failures=row.failures,
        last_failure=row.last_failure,
        locked_until=row.locked_until,
        is_long=row.is_long,
        pending=row.pending,
        pending_since=row.pending_since,
    )


def _apply(row: FailureCounter, state: policy.CounterState) -> None:
    row.failures = state.failures
    row.last_failure = state.last_failure
    row.locked_until = state.locked_until
    row.is_long = state.is_long
    row.pending = state.pending
    row.pending_since = state.pending_since


def _lock_rows(keys: list[CounterKey], create: bool) -> list[FailureCounter]:
    """The counter rows of `keys`, locked, in the order of `keys`."""
    digests = [key.digest for key in keys]
    rows = _select(digests)
    if create and len(rows) < len(set(digests)):
        # Two requests may race to create a row: the loser's insert is ignored
        # and it locks the winner's row instead.
        FailureCounter.objects.bulk_create(
            [
                FailureCounter(
                    key=key.digest,
                    scope=key.scope,
                    ip_group=key.ip_group or "",
                    username=key.username or "",
                )
                for key in keys
                if key.digest not in rows
            ],
            ignore_conflicts=True,
        )
        rows = _select(digests)
    return [rows[digest] for digest in digests if digest in rows]


def _select(digests: list[str]) -> dict[str, FailureCounter]:
    query = (
        FailureCounter.objects.select_for_update()
        .filter(key__in=digests)
        .order_by("key")
    )
    return {row.key: row for row in query}


def _atomic():
    return transaction.atomic(using=router.db_for_write(FailureCounter))


def begin_attempt(
    keys: list[CounterKey], now: datetime, limits: policy.Limits
) -> policy.Verdict:
    """Decide whether the client may try a password; if so, reserve the try."""
    with _atomic():
        rows = _lock_rows(keys, create=True)
        states = [policy.refresh(counter_state(row), now, limits) for row in rows]
        verdict = policy.strictest([policy.check(s, now, limits) for s in states])
        if verdict.allowed:
            for row, state in zip(rows, states, strict=True):
                _apply(row, policy.reserve(state, now))
                row.save()
        return verdict


def peek(
    keys: list[CounterKey], now: datetime, limits: policy.Limits
) -> policy.Verdict:
    """The verdict without reserving anything (for display and `is_locked`)."""
    rows = FailureCounter.objects.filter(key__in=[key.digest for key in keys])
    by_key = {row.key: row for row in rows}
    verdicts = []
    for key in keys:
        row = by_key.get(key.digest)
        state = (
            policy.refresh(counter_state(row), now, limits)
            if row
            else policy.CounterState()
        )
        verdicts.append(policy.check(state, now, limits))
    return policy.strictest(verdicts)


def release(keys: list[CounterKey], now: datetime, limits: policy.Limits) -> None:
    """Give back a reserved try that ended in neither a failure nor a login."""
    with _atomic():
        for row in _lock_rows(keys, create=False):
            state = policy.release(policy.refresh(counter_state(row), now, limits))
            _apply(row, state)
            row.save(update_fields=["pending", "pending_since"])


@dataclass
class FailureResult:
    """What one recorded failure did."""

    failures: int  # the highest count among the client's counters
    tries_left: int
    lockouts: list[Lockout] = field(default_factory=list)


def record_failure(
    keys: list[CounterKey], client: Client, now: datetime, limits: policy.Limits
) -> FailureResult:
    """Count a failure on each of the client's counters; record any lockout."""
    with _atomic():
        rows = _lock_rows(keys, create=True)
        result = FailureResult(failures=0, tries_left=limits.allowed_retries)
        for key, row in zip(keys, rows, strict=True):
            state = policy.refresh(counter_state(row), now, limits)
            state, lockout = policy.record_failure(state, now, limits)
            _apply(row, state)
            row.save()
            count = lockout.failure_count if lockout else state.failures
            result.failures = max(result.failures, count)
            result.tries_left = min(result.tries_left, policy.tries_left(state, limits))
            if lockout:
                result.lockouts.append(
                    Lockout.objects.create(
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
                    )
                )
        return result


@dataclass
class ResetResult:
    counters: list[FailureCounter] = field(default_factory=list)
    lockouts: list[Lockout] = field(default_factory=list)


def reset(
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
        match = Q(key__in=[key.digest for key in keys])
    elif everything:
        match = Q()
    else:
        match = Q()
        if ip_group is not None:
            match &= Q(ip_group=ip_group)
        if username is not None:
            match &= Q(username=username)
        if not match:
            raise ValueError("reset() needs keys, ip_group, username or everything.")
    with _atomic():
        counters = list(
            FailureCounter.objects.select_for_update().filter(match).order_by("key")
        )
        lockouts = list(Lockout.objects.active(now).filter(match))
        if lockouts:
            Lockout.objects.filter(pk__in=[lockout.pk for lockout in lockouts]).update(
                lifted_at=now, lifted_by=by, lift_reason=reason
            )
        FailureCounter.objects.filter(pk__in=[row.pk for row in counters]).delete()
    return ResetResult(counters=counters, lockouts=lockouts)
