"""The attacker's budget: the most passwords one client can try in a day under
given limits, trying as fast as the counting rules let it. Pure arithmetic on
those rules (the README's "How counting works"); no Django.

A client's failures come in bursts: `allowed_retries` of them, then a lockout
of `lockout_duration` (D); the burst that brings the count to
`allowed_retries × allowed_lockouts` ends in a long lockout of `long_duration`,
after which the count starts again from zero. A patient client may instead
stop one failure short of a lockout and wait `valid_duration` (V) until its
count is forgotten. So, from a count of zero, a client has these moves:

- the full cycle: `allowed_lockouts` bursts of `allowed_retries`, D apart,
  then the long lockout;
- stopping short after k lockouts (k = 0 … `allowed_lockouts` − 1): k bursts
  of `allowed_retries`, D apart, then `allowed_retries − 1` more failures,
  then waiting V.

Each move ends with the count back at zero. The budget is the most failures a
sequence of moves places inside the window (a day), found by dynamic
programming over the (whole-second) moments a move can begin. With the
defaults it is 31: 15 failures in the first hour (three lockouts, three more
failures), 12 hours' wait, then the full cycle of 16. When durations of a few
seconds make the moments too many to try, a bound from the best rate of the
moves is given instead: never less than the true budget.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import accumulate

DAY = timedelta(days=1)
# Moves × moments the exact count may try (a few tenths of a second at most).
WORK = 200_000


def _seconds(value: timedelta | int) -> int:
    if isinstance(value, timedelta):
        return max(1, int(value.total_seconds()))
    return max(1, int(value))


def tries_per_day(
    *,
    allowed_retries: int,
    lockout_duration: timedelta | int,
    allowed_lockouts: int,
    long_duration: timedelta | int,
    valid_duration: timedelta | int,
    window: timedelta | int = DAY,
) -> int:
    """The most passwords one client (one IP address, one username or one
    pair, as `lockout_method` counts) can try within `window`."""
    retries, lockouts = max(1, allowed_retries), max(1, allowed_lockouts)
    gap, forget, long = (
        _seconds(lockout_duration),
        _seconds(valid_duration),
        _seconds(long_duration),
    )
    span = _seconds(window)
    # Each move: the failures of its bursts (D apart) and the wait after the last.
    moves = [([retries] * lockouts, long)]
    for k in range(lockouts):
        bursts = [retries] * k + ([retries - 1] if retries > 1 else [])
        if bursts:
            moves.append((bursts, forget))

    # Per move: the failures of its first n bursts, and the time from its
    # start to its end (the last burst plus the wait).
    table = [
        ([0, *accumulate(bursts)], (len(bursts) - 1) * gap + wait)
        for bursts, wait in moves
    ]
    starts = _starts([length for _, length in table], span, WORK // len(table))
    if starts is None:
        # Durations of a few seconds: too many moments to try them all. The
        # moves that end inside the window last less than it in all, so they
        # hold at most the best rate times the window; the last one adds at
        # most a whole move.
        return min(
            span * retries,  # no more than one burst a second
            int(max(sums[-1] / length for sums, length in table) * span)
            + max(sums[-1] for sums, _ in table),
        )
    best: dict[int, int] = {}
    # Moves always go forward in time: evaluate the latest starts first.
    for start in sorted(starts, reverse=True):
        room = -(-(span - start) // gap)  # bursts that still begin in the window
        best[start] = max(
            sums[min(room, len(sums) - 1)] + best.get(start + length, 0)
            for sums, length in table
        )
    return best[0]


def _starts(lengths: list[int], span: int, limit: int) -> set[int] | None:
    """Every moment within the window at which a move can begin, or None if
    there are more than `limit`."""
    steps = set(lengths)
    seen, todo = {0}, [0]
    while todo:
        moment = todo.pop()
        for step in steps:
            after = moment + step
            if after < span and after not in seen:
                if len(seen) >= limit:
                    return None
                seen.add(after)
                todo.append(after)
    return seen


def tries_before_deactivation(*, allowed_retries: int, deactivate_after: int) -> int:
    """Failed logins against one account before it is set inactive (0: never)."""
    return allowed_retries * deactivate_after
