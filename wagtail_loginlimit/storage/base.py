"""The interface both counter stores implement, and the steps of `policy` each
operation takes, so that the two stores differ only in how they read and write
a client's `CounterState` atomically — never in the rules."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from datetime import datetime

from .. import policy
from ..clients import SCOPE_IP, SCOPE_NETWORK, CounterKey
from ..models import FailureCounter
from ..networks import limits_for


@dataclass(frozen=True)
class Outcome:
    """What one failure did to one counter."""

    key: CounterKey
    state: policy.CounterState
    lockout: policy.StartedLockout | None


@dataclass(frozen=True)
class Scopes:
    """Several clients at once (a bulk unlock): every counter of each IP group,
    of each username and of each (IP group, username) pair — the union of what
    one `Match(ip_group=…)`, `Match(username=…)` or `Match(ip_group=…,
    username=…)` each would name. Empty names nothing."""

    ip_groups: frozenset[str] = frozenset()
    usernames: frozenset[str] = frozenset()
    pairs: frozenset[tuple[str, str]] = frozenset()

    def __len__(self) -> int:
        return len(self.ip_groups) + len(self.usernames) + len(self.pairs)

    def includes(self, ip_group: str, username: str) -> bool:
        """Whether a record of `ip_group` and `username` is any of the scopes':
        the test `database.match_q` makes in SQL."""
        return (
            ip_group in self.ip_groups
            or username in self.usernames
            or (ip_group, username) in self.pairs
        )

    def chunks(self, size: int) -> Iterator[Scopes]:
        """Parts of at most `size` query parameters (a pair takes two), in a
        stable order, so that one query per part stays within SQLite's limits
        on variables and expression depth."""
        items = [
            *((1, "ip", group) for group in sorted(self.ip_groups)),
            *((1, "user", name) for name in sorted(self.usernames)),
            *((2, "pair", pair) for pair in sorted(self.pairs)),
        ]
        part: dict[str, set] = {"ip": set(), "user": set(), "pair": set()}
        used = 0
        for weight, kind, value in items:
            if used + weight > size and used:
                yield _scopes(part)
                part, used = {"ip": set(), "user": set(), "pair": set()}, 0
            part[kind].add(value)
            used += weight
        if used:
            yield _scopes(part)


def _scopes(part: dict[str, set]) -> Scopes:
    return Scopes(
        ip_groups=frozenset(part["ip"]),
        usernames=frozenset(part["user"]),
        pairs=frozenset(part["pair"]),
    )


@dataclass(frozen=True)
class Match:
    """Which counters a reset clears: exact keys, or every counter of an IP group
    and/or a username, or of any of several (`scopes`), or everything."""

    digests: tuple[str, ...] | None = None
    ip_group: str | None = None
    username: str | None = None
    everything: bool = False
    scopes: Scopes | None = None


class CounterStore(ABC):
    """Where the clients' counters live. Each method is atomic across processes
    and servers: two requests for the same client never both read the same
    state and both write on top of it."""

    name: str

    @abstractmethod
    def begin_attempt(
        self, keys: Sequence[CounterKey], now: datetime, limits: policy.Limits
    ) -> policy.Verdict: ...

    @abstractmethod
    def peek(
        self, keys: Sequence[CounterKey], now: datetime, limits: policy.Limits
    ) -> policy.Verdict: ...

    @abstractmethod
    def release(
        self, keys: Sequence[CounterKey], now: datetime, limits: policy.Limits
    ) -> None: ...

    @abstractmethod
    def add_failure(
        self,
        keys: Sequence[CounterKey],
        now: datetime,
        limits: policy.Limits,
        account: str | None = None,
    ) -> list[Outcome]:
        """Count one failure (against the account tagged `account`) on each
        counter; called inside `transaction()`."""

    @abstractmethod
    def forgive(
        self,
        keys: Sequence[CounterKey],
        account: str,
        now: datetime,
        limits: policy.Limits,
        *,
        release: bool = False,
    ) -> list[int]:
        """Forgive the account tagged `account` its failures on each counter
        (`policy.forgive`), giving back the try its login reserved if
        `release`; the number forgiven per key, in the order of `keys`."""

    @abstractmethod
    def clear(self, match: Match) -> list[FailureCounter]:
        """Delete the matching counters; return them as they were (unsaved
        `FailureCounter` instances for a store outside the database)."""

    @abstractmethod
    def counters(self, match: Match) -> list[FailureCounter]:
        """The matching counters as they are stored (not refreshed), by key."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager:
        """The database transaction a failure's lockout records are written in
        together with the counters (a no-op for a store outside the database)."""


# --- the rules of `policy`, applied the same way by every store ---

# Counters that count the failures of several accounts: a success forgives
# only its account's share of them (`pardon`).
SHARED_SCOPES = (SCOPE_IP, SCOPE_NETWORK)
# Each counter follows its own limits (`networks.limits_for`: a network's
# counter has `network_retries`), so one atomic operation covers a client's
# counters and its network's together.


def tally_of(value) -> tuple[tuple[str, int], ...]:
    """The stored tally (a JSON list of [tag, count] pairs) as `policy` keeps
    it; anything damaged is dropped, which only forgives less."""
    if not isinstance(value, list):
        return ()
    return tuple(
        (str(entry[0]), int(entry[1]))
        for entry in value[: policy.TALLY_SIZE]
        if isinstance(entry, list | tuple)
        and len(entry) == 2
        and isinstance(entry[1], int)
    )


def begin(
    keys: Sequence[CounterKey],
    states: list[policy.CounterState],
    now: datetime,
    limits: policy.Limits,
) -> tuple[policy.Verdict, list[policy.CounterState] | None]:
    """The verdict, and the states to write if a try was reserved (else None)."""
    rules = [limits_for(key, limits) for key in keys]
    states = [
        policy.refresh(state, now, rule)
        for state, rule in zip(states, rules, strict=True)
    ]
    verdict = policy.strictest(
        [
            policy.check(state, now, rule)
            for state, rule in zip(states, rules, strict=True)
        ]
    )
    verdict = replace(verdict, failures=_own_failures(keys, states))
    if not verdict.allowed:
        return verdict, None
    return verdict, [policy.reserve(state, now) for state in states]


def judge(
    keys: Sequence[CounterKey],
    states: list[policy.CounterState],
    now: datetime,
    limits: policy.Limits,
) -> policy.Verdict:
    verdicts, fresh = [], []
    for key, state in zip(keys, states, strict=True):
        rule = limits_for(key, limits)
        fresh.append(policy.refresh(state, now, rule))
        verdicts.append(policy.check(fresh[-1], now, rule))
    return replace(policy.strictest(verdicts), failures=_own_failures(keys, fresh))


def _own_failures(
    keys: Sequence[CounterKey], states: Sequence[policy.CounterState]
) -> int:
    """The most failures one of the client's own counters remembers (a
    network's count is the network's, not the client's)."""
    return max(
        (
            state.failures
            for key, state in zip(keys, states, strict=True)
            if key.scope != SCOPE_NETWORK
        ),
        default=0,
    )


def give_back(
    key: CounterKey,
    state: policy.CounterState,
    now: datetime,
    limits: policy.Limits,
) -> policy.CounterState:
    return policy.release(policy.refresh(state, now, limits_for(key, limits)))


def fail(
    key: CounterKey,
    state: policy.CounterState,
    now: datetime,
    limits: policy.Limits,
    account: str | None = None,
) -> Outcome:
    limits = limits_for(key, limits)
    # Only the counters of an IP and of a network count several accounts and
    # need a tally; a username's or a pair's is cleared whole by its account's
    # login.
    state, lockout = policy.record_failure(
        policy.refresh(state, now, limits),
        now,
        limits,
        account=account if key.scope in SHARED_SCOPES else None,
    )
    return Outcome(key, state, lockout)


def pardon(
    key: CounterKey,
    state: policy.CounterState,
    account: str,
    now: datetime,
    limits: policy.Limits,
    release: bool,
) -> tuple[policy.CounterState, int]:
    """`forgive()` one counter: refreshed, its login's try given back if
    `release`, then the account's failures forgiven."""
    state = policy.refresh(state, now, limits_for(key, limits))
    if release:
        state = policy.release(state)
    return policy.forgive(state, account)


def is_void(state: policy.CounterState, now: datetime, limits: policy.Limits) -> bool:
    """Nothing left to remember: no count, no lockout, no try in flight."""
    return policy.refresh(state, now, limits) == policy.CounterState()
