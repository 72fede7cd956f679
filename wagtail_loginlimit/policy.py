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

With `progressive_delay`, the k-th failure of a client also makes its next
try wait `delay_base * 2**(k-1)`, at most `delay_max` (`delay_after`): a try
before then is refused (`DELAYED`) without a lockout, and nothing is counted.

A counter of an IP also keeps a small tally of whose accounts its failures since
the last lockout were made against (`TALLY_SIZE` accounts at most; failures
against any further account are kept only in the count; see `forgive`). A successful login
forgives the signed-in account its share (`forgive`) and nothing else, so an
attacker who owns one account gains no tries against another by signing in to
it between guesses.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from . import defaults

PENDING_TTL = timedelta(seconds=60)
# Accounts a counter remembers its failures against: bounded, so that a client
# spraying many usernames takes the same few bytes however many it names.
TALLY_SIZE = 8
# Hex digits of an account's tag: short (storage), never the name itself (no
# typed garbage stored); a collision only shares forgiveness between two names.
TAG_LENGTH = 16

ALLOWED = "allowed"
LOCKED = "locked"
BUSY = "busy"  # every remaining try is already being checked by another request
DELAYED = "delayed"  # too soon after the last failure (progressive delay)


def _seconds(key: str) -> timedelta:
    return timedelta(seconds=defaults.ALL[key])


@dataclass(frozen=True)
class Limits:
    allowed_retries: int = defaults.PANEL["allowed_retries"]
    lockout_duration: timedelta = _seconds("lockout_duration")
    allowed_lockouts: int = defaults.PANEL["allowed_lockouts"]
    long_duration: timedelta = _seconds("long_duration")
    valid_duration: timedelta = _seconds("valid_duration")
    # Failures of one network before it is locked out (0: not counted); a
    # network's counter follows these limits with this as its allowed retries.
    network_retries: int = defaults.PANEL["network_retries"]
    # The wait before a client's next try after each failure (`delay_after`).
    progressive_delay: bool = defaults.PANEL["progressive_delay"]
    delay_base: timedelta = _seconds("progressive_delay_base")
    delay_max: timedelta = _seconds("progressive_delay_max")

    @property
    def long_lockout_at(self) -> int:
        return self.allowed_retries * self.allowed_lockouts

    def for_network(self) -> Limits:
        """The limits a network's counter follows (`networks.limits_for`).
        No progressive delay: one client's failure must not make a whole
        office wait."""
        return replace(
            self, allowed_retries=max(1, self.network_retries), progressive_delay=False
        )


@dataclass(frozen=True)
class CounterState:
    failures: int = 0
    last_failure: datetime | None = None
    locked_until: datetime | None = None
    is_long: bool = False
    pending: int = 0
    pending_since: datetime | None = None
    # (account tag, failures against it) since the last lockout (since the
    # count began if it is all one account's), for the forgiveness of a
    # successful login; at most `TALLY_SIZE` entries. The rest of `failures`
    # (more accounts, earlier lockouts) is never forgiven.
    tally: tuple[tuple[str, int], ...] = ()


def account_tag(username: str) -> str:
    """The short digest a tally knows a (normalised) username by."""
    digest = hashlib.sha256(username.encode("utf-8", "surrogatepass")).hexdigest()
    return digest[:TAG_LENGTH]


@dataclass(frozen=True)
class Verdict:
    """May a client try a password now, and if not, until when not."""

    status: str
    tries_left: int
    # Until when a refused client must wait (lockout, delay, busy).
    locked_until: datetime | None = None
    is_long: bool = False
    # After a failure that left the client allowed: when its next try may
    # come (the progressive delay), if it must wait.
    wait_until: datetime | None = None
    # The client's failures still remembered (of its own counters, not of a
    # network's): what `captcha_after` is compared with.
    failures: int = 0

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
        state = replace(state, failures=0, last_failure=None, tally=())
    return state


def tries_left(state: CounterState, limits: Limits) -> int:
    """Failures the client may still make before its next lockout."""
    return limits.allowed_retries - state.failures % limits.allowed_retries


def lockout_count(failures: int, limits: Limits) -> int:
    """How many lockouts a count has led to in the current window."""
    return failures // limits.allowed_retries


def delay_after(failures: int, limits: Limits) -> timedelta:
    """The wait the `failures`-th failure imposes: the base, doubled for each
    failure before it, never more than the cap (none without the delay)."""
    if not limits.progressive_delay or failures < 1:
        return timedelta(0)
    # 2**40 seconds already dwarfs any cap: no overflow for a huge count.
    seconds = limits.delay_base.total_seconds() * 2 ** min(failures - 1, 40)
    return min(timedelta(seconds=seconds), limits.delay_max)


def delayed_until(state: CounterState, limits: Limits) -> datetime | None:
    """When the client's next try may come after its last failure (None: at
    once)."""
    if state.last_failure is None:
        return None
    wait = delay_after(state.failures, limits)
    return state.last_failure + wait if wait else None


def check(state: CounterState, now: datetime, limits: Limits) -> Verdict:
    """The verdict for a client whose state is already refreshed."""
    left = tries_left(state, limits)
    if state.locked_until is not None and state.locked_until > now:
        return Verdict(LOCKED, 0, state.locked_until, state.is_long)
    wait_until = delayed_until(state, limits)
    if wait_until is not None and wait_until > now:
        return Verdict(DELAYED, left, wait_until)
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


def _tallied(
    tally: tuple[tuple[str, int], ...], account: str | None
) -> tuple[tuple[str, int], ...]:
    """`tally` with one more failure against `account`; unchanged when there
    is no account or no room for another one (the failure is then only in the
    count: never forgiven)."""
    if account is None:
        return tally
    entries = dict(tally)
    if account not in entries and len(entries) >= TALLY_SIZE:
        return tally
    entries[account] = entries.get(account, 0) + 1
    return tuple(entries.items())


def record_failure(
    state: CounterState,
    now: datetime,
    limits: Limits,
    account: str | None = None,
) -> tuple[CounterState, StartedLockout | None]:
    """Count one failure (against the account tagged `account`, if given);
    start a lockout when the count reaches a multiple of `allowed_retries` (a
    long one at `allowed_retries * allowed_lockouts`).

    A lockout empties the tally, unless the count is all one account's (a
    person mistyping their own password): forgiving failures that led to a
    lockout of a count shared with other accounts would hand out tries against
    those accounts beyond `allowed_retries` per lockout, or keep the client
    from ever reaching its long lockout."""
    failures = state.failures + 1
    state = replace(
        state,
        failures=failures,
        last_failure=now,
        pending=max(0, state.pending - 1),
        pending_since=state.pending_since if state.pending > 1 else None,
        tally=_tallied(state.tally, account),
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
        tally=state.tally if _one_account(state) and not is_long else (),
    )
    return state, lockout


def _one_account(state: CounterState) -> bool:
    """Whether every failure of the count is in one tally entry."""
    return len(state.tally) == 1 and state.tally[0][1] == state.failures


def forgive(state: CounterState, account: str) -> tuple[CounterState, int]:
    """The account tagged `account` signed in: take its tallied failures out
    of the count, as if they had never been made. Returns the new state and
    how many were forgiven.

    Failures against other accounts stay, and so does a lockout in force. The
    tally holds an account's failures since the last lockout, or since the
    count began when the count is all that account's: either way the count
    keeps its place between lockouts for every other account, so at most
    `allowed_retries` tries against any other account are checked per
    lockout, and the long lockout comes as soon, however often the client
    signs in to an account of its own."""
    entries = dict(state.tally)
    # Never more than is counted, never fewer than none (a damaged tally).
    forgiven = max(0, min(entries.pop(account, 0), state.failures))
    if not forgiven:
        return state, 0
    failures = state.failures - forgiven
    state = replace(
        state,
        failures=failures,
        tally=tuple(entries.items()),
        # Nothing left counted: nothing for the valid window to run from.
        last_failure=state.last_failure if failures else None,
    )
    return state, forgiven


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
