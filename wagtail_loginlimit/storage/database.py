"""The counters in the database (`FailureCounter`, one row per client).

Each operation runs in one transaction that locks the client's counter rows
(`SELECT … FOR UPDATE`, in key order so that two requests never deadlock),
applies the rules, and writes the result back. On SQLite, which has no row
locks, configure `"OPTIONS": {"transaction_mode": "IMMEDIATE"}` so that two
logins serialise instead of failing with "database is locked".
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from contextlib import AbstractContextManager
from functools import reduce
from operator import or_

from django.db import router, transaction
from django.db.models import Q

from .. import policy
from ..clients import SCOPE_DEVICE, SCOPE_PAIR, CounterKey
from ..models import FailureCounter
from ..networks import limits_for
from . import base

# Scopes per query of a bulk unlock, and ids per `pk__in`: within SQLite's 999
# variables and its expression depth, whatever the database.
BATCH = 500


def counter_state(row: FailureCounter) -> policy.CounterState:
    return policy.CounterState(
        failures=row.failures,
        last_failure=row.last_failure,
        locked_until=row.locked_until,
        is_long=row.is_long,
        pending=row.pending,
        pending_since=row.pending_since,
        tally=base.tally_of(row.tally),
    )


def apply_state(row: FailureCounter, state: policy.CounterState) -> None:
    row.failures = state.failures
    row.last_failure = state.last_failure
    row.locked_until = state.locked_until
    row.is_long = state.is_long
    row.pending = state.pending
    row.pending_since = state.pending_since
    row.tally = [list(entry) for entry in state.tally]


def atomic() -> AbstractContextManager:
    return transaction.atomic(using=router.db_for_write(FailureCounter))


def match_q(match: base.Match) -> Q:
    if match.digests is not None:
        return Q(key__in=match.digests)
    if match.everything:
        return Q()
    if match.scopes is not None:
        return _scopes_q(match.scopes)
    query = Q()
    if match.ip_group is not None:
        query &= Q(ip_group=match.ip_group)
    if match.username is not None:
        query &= Q(username=match.username)
    return query


def _scopes_q(scopes: base.Scopes) -> Q:
    """Any of the scopes, in a few terms however many scopes there are."""
    terms = []
    if scopes.ip_groups:
        terms.append(Q(ip_group__in=sorted(scopes.ip_groups)))
    if scopes.usernames:
        terms.append(Q(username__in=sorted(scopes.usernames)))
    # A pair's only row is its own counter, whose key follows from the pair
    # (an IP or username counter leaves the other value empty).
    digests, partial = [], defaultdict(list)
    for group, username in sorted(scopes.pairs):
        if group and username:
            # A pair's, or a known device's (keyed like a pair).
            digests.append(CounterKey(SCOPE_PAIR, group, username).digest)
            digests.append(CounterKey(SCOPE_DEVICE, group, username).digest)
        else:
            partial[group].append(username)
    if digests:
        terms.append(Q(key__in=digests))
    terms += [Q(ip_group=group, username__in=names) for group, names in partial.items()]
    # No scope names nothing (never everything).
    return reduce(or_, terms) if terms else Q(pk__in=[])


def in_batches(pks: list, size: int = BATCH) -> Sequence[list]:
    """`pks` in lists short enough for one `pk__in` on any database."""
    return [pks[start : start + size] for start in range(0, len(pks), size)]


def clear_rows(match: base.Match) -> list[FailureCounter]:
    """Delete the matching rows (inside the caller's transaction)."""
    rows = list(
        FailureCounter.objects.select_for_update()
        .filter(match_q(match))
        .order_by("key")
    )
    for batch in in_batches([row.pk for row in rows]):
        FailureCounter.objects.filter(pk__in=batch).delete()
    return rows


def _lock_rows(keys: Sequence[CounterKey], create: bool) -> list[FailureCounter]:
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
                    entry_point=key.entry_point,
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


class DatabaseStore(base.CounterStore):
    name = "database"

    def transaction(self) -> AbstractContextManager:
        return atomic()

    def begin_attempt(self, keys, now, limits) -> policy.Verdict:
        with atomic():
            rows = _lock_rows(keys, create=True)
            verdict, states = base.begin(
                keys, [counter_state(r) for r in rows], now, limits
            )
            if states is not None:
                for row, state in zip(rows, states, strict=True):
                    apply_state(row, state)
                    row.save()
            return verdict

    def peek(self, keys, now, limits) -> policy.Verdict:
        rows = FailureCounter.objects.filter(key__in=[key.digest for key in keys])
        by_key = {row.key: row for row in rows}
        return base.judge(
            keys,
            [
                counter_state(by_key[key.digest])
                if key.digest in by_key
                else policy.CounterState()
                for key in keys
            ],
            now,
            limits,
        )

    def release(self, keys, now, limits) -> None:
        with atomic():
            by_digest = {key.digest: key for key in keys}
            for row in _lock_rows(keys, create=False):
                key = by_digest[row.key]
                apply_state(row, base.give_back(key, counter_state(row), now, limits))
                row.save(update_fields=["pending", "pending_since"])

    def add_failure(self, keys, now, limits, account=None) -> list[base.Outcome]:
        # Runs inside `transaction()`, so that the lockout records the caller
        # writes are committed with the counters, or not at all.
        outcomes = []
        rows = _lock_rows(keys, create=True)
        for key, row in zip(keys, rows, strict=True):
            outcome = base.fail(key, counter_state(row), now, limits, account)
            apply_state(row, outcome.state)
            row.save()
            outcomes.append(outcome)
        return outcomes

    def forgive(self, keys, account, now, limits, *, release=False) -> list[int]:
        with atomic():
            rows = {row.key: row for row in _lock_rows(keys, create=False)}
            forgiven = []
            for key in keys:
                row = rows.get(key.digest)
                if row is None:
                    forgiven.append(0)
                    continue
                state, count = base.pardon(
                    key, counter_state(row), account, now, limits, release
                )
                forgiven.append(count)
                if base.is_void(state, now, limits_for(key, limits)):
                    row.delete()  # nothing left to remember, as after a clear
                else:
                    apply_state(row, state)
                    row.save()
            return forgiven

    def clear(self, match: base.Match) -> list[FailureCounter]:
        with atomic():
            return clear_rows(match)

    def counters(self, match: base.Match) -> list[FailureCounter]:
        return list(FailureCounter.objects.filter(match_q(match)).order_by("key"))
