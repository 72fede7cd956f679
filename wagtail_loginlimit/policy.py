"""The counting rules of PRODUCT.md as pure functions: no database, no requests.

A client's count grows by one per failure and is forgotten after `valid_duration`
without a failure. Every `allowed_retries`-th failure locks the client out for
`lockout_duration`; the failure that reaches `allowed_retries * allowed_lockouts`
locks it out for `long_duration` and starts the count again from zero.

Tries that have been let through to the password check but have no outcome yet
are "pending": they use up tries too, so parallel requests cannot all slip past
the limit before the first failure is recorded. A pending try that never reports
back (a crash, an `authenticate()` without `login()`) is forgotten after
`PENDING_TTL`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from . import defaults

PENDING_TTL = timedelta(seconds=60)

ALLOWED = "allowed"
LOCKED = "locked"
BUSY = "busy"  # every remaining try is already being checked by another request


def _seconds(key: str) -> timedelta:
    return timedelta(seconds=defaults.PANEL[key])


@dataclass(frozen=True)
class Limits:
    allowed_retries: int = defaults.PANEL["allowed_retries"]
    lockout_duration: timedelta = _seconds("lockout_duration")
    allowed_lockouts: int = defaults.PANEL["allowed_lockouts"]
    long_duration: timedelta = _seconds("long_duration")
    valid_duration: timedelta = _seconds("valid_duration")
    # Failures of one network before it is locked out (0: not counted); a
    # network's counter follows these limits with this as its allowed retries.
    network_retries: int = 0

    @property
    def long_lockout_at(self) -> int:
        return self.allowed_retries * self.allowed_lockouts

    def for_network(self) -> Limits:
        """The limits a network's counter follows (`networks.limits_for`)."""
        return replace(self, allowed_retries=max(1, self.network_retries))


@dataclass(frozen=True)
class CounterState:
    failures: int = 0
    last_failure: datetime | None = None
    locked_until: datetime | None = None
    is_long: bool = False
    pending: int = 0
    pending_since: datetime | None = None


@dataclass(frozen=True)
class Verdict:
    """May a client try a password now, and if not, until when not."""

    status: str
    tries_left: int
    locked_until: datetime | None = None
    is_long: bool = False

    @property
    def allowed(self) -> bool:
        return self.status == ALLOWED

    def retry_after(self, now: datetime) -> int:
        """Whole seconds until the client may try again (HTTP `Retry-After`)."""
        if self.locked_until is None:
            return 0
        return max(1, math.ceil((self.locked_until - now).total_seconds()))


@dataclass(frozen=True)
class StartedLockout:
    """A lockout that a failure has just started (`models.Lockout` is its
    record)."""

    started_at: datetime
    ends_at: datetime
    is_long: bool
    failure_count: int  # the count that triggered it
    number: int  # 1st, 2nd, … lockout of this client in the valid window


def refresh(state: CounterState, now: datetime, limits: Limits) -> CounterState:
    """Drop what time has made void: an ended lockout, stale pending tries, a count
    older than the valid window."""
    if state.locked_until is not None and state.locked_until <= now:
        state = replace(state, locked_until=None, is_long=False)
    if state.pending and (
        state.pending_since is None or now - state.pending_since >= PENDING_TTL
    ):
        state = replace(state, pending=0, pending_since=None)
    if (
        state.locked_until is None
        and state.last_failure is not None
        and now - state.last_failure >= limits.valid_duration
    ):
        state = replace(state, failures=0, last_failure=None)
    return state


def tries_left(state: CounterState, limits: Limits) -> int:
    """Failures the client may still make before its next lockout."""
    return limits.allowed_retries - state.failures % limits.allowed_retries


def lockout_count(failures: int, limits: Limits) -> int:
    """How many lockouts a count has led to in the current window."""
    return failures // limits.allowed_retries


def check(state: CounterState, now: datetime, limits: Limits) -> Verdict:
    """The verdict for a client whose state is already refreshed."""
    left = tries_left(state, limits)
    if state.locked_until is not None and state.locked_until > now:
        return Verdict(LOCKED, 0, state.locked_until, state.is_long)
    if state.pending >= left:
        return Verdict(BUSY, 0, (state.pending_since or now) + PENDING_TTL)
    return Verdict(ALLOWED, left - state.pending)


def reserve(state: CounterState, now: datetime) -> CounterState:
    """Mark one try as being checked."""
    return replace(state, pending=state.pending + 1, pending_since=now)


def release(state: CounterState) -> CounterState:
    """Give back one reserved try (its request ended without an outcome)."""
    pending = max(0, state.pending - 1)
    return replace(
        state, pending=pending, pending_since=state.pending_since if pending else None
    )


def record_failure(
    state: CounterState, now: datetime, limits: Limits
) -> tuple[CounterState, StartedLockout | None]:
    """Count one failure; start a lockout when the count reaches a multiple of
    `allowed_retries` (a long one at `allowed_retries * allowed_lockouts`)."""
    failures = state.failures + 1
    state = replace(
        state,
        failures=failures,
        last_failure=now,
        pending=max(0, state.pending - 1),
        pending_since=state.pending_since if state.pending > 1 else None,
    )
    if failures % limits.allowed_retries:
        return state, None
    is_long = failures >= limits.long_lockout_at
    duration = limits.long_duration if is_long else limits.lockout_duration
    lockout = StartedLockout(
        started_at=now,
        ends_at=now + duration,
        is_long=is_long,
        failure_count=failures,
        number=lockout_count(failures, limits),
    )
    state = replace(
        state,
        locked_until=lockout.ends_at,
        is_long=is_long,
        failures=0 if is_long else failures,
        pending=0,
        pending_since=None,
    )
    return state, lockout


def strictest(verdicts: list[Verdict]) -> Verdict:
    """For `ip_or_username`: each counter is judged on its own, the stricter wins."""
    refused = [v for v in verdicts if not v.allowed]
    if refused:
        return max(
            refused,
            key=lambda v: (
                v.status == LOCKED,
                v.locked_until.timestamp() if v.locked_until else 0.0,
            ),
        )
    return min(verdicts, key=lambda v: v.tries_left)
