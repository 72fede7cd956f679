"""The counting rules of PRODUCT.md, on the pure functions of `policy` (no database,
no requests): each table reads like the spec."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wagtail_loginlimit import policy
from wagtail_loginlimit.policy import (
    ALLOWED,
    BUSY,
    LOCKED,
    PENDING_TTL,
    CounterState,
    Limits,
    Verdict,
)

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
DEFAULTS = Limits()
MINUTE = timedelta(minutes=1)


def attempt(state: CounterState, now: datetime, limits: Limits = DEFAULTS):
    """One try that gets past the lockout check and fails: what storage does for
    a wrong password."""
    state = policy.refresh(state, now, limits)
    verdict = policy.check(state, now, limits)
    assert verdict.allowed, f"the try at {now} was refused: {verdict}"
    state = policy.reserve(state, now)
    return policy.record_failure(state, now, limits)


def describe(
    state: CounterState, lockout: policy.StartedLockout | None, limits: Limits
):
    """The outcome of a failure as the spec words it."""
    if lockout is None:
        return f"{policy.tries_left(state, limits)} tries left"
    duration = lockout.ends_at - lockout.started_at
    kind = "long lockout" if lockout.is_long else "lockout"
    return f"{kind} #{lockout.number} for {duration}"


def fail_repeatedly(count: int, limits: Limits = DEFAULTS, gap: timedelta = MINUTE):
    """`count` failures, `gap` apart, each lockout waited out before the next try.
    Returns the outcome of every failure and the final state."""
    state, now, outcomes = CounterState(), T0, []
    for _ in range(count):
        if state.locked_until is not None:
            now = max(now + gap, state.locked_until)
        else:
            now += gap
        state, lockout = attempt(state, now, limits)
        outcomes.append(describe(state, lockout, limits))
    return outcomes, state


# With the defaults: failures 1–3 show "3, 2, 1 attempts remaining"; the 4th, 8th
# and 12th lock for 20 minutes; the 16th for 24 hours, and the count restarts.
DEFAULT_SCENARIO = [
    (1, "3 tries left"),
    (2, "2 tries left"),
    (3, "1 tries left"),
    (4, "lockout #1 for 0:20:00"),
    (5, "3 tries left"),
    (7, "1 tries left"),
    (8, "lockout #2 for 0:20:00"),
    (9, "3 tries left"),
    (12, "lockout #3 for 0:20:00"),
    (15, "1 tries left"),
    (16, "long lockout #4 for 1 day, 0:00:00"),
    (17, "3 tries left"),  # the count started again from zero
    (20, "lockout #1 for 0:20:00"),
    (32, "long lockout #4 for 1 day, 0:00:00"),
]


@pytest.mark.parametrize(("failure", "outcome"), DEFAULT_SCENARIO)
def test_defaults(failure, outcome):
    outcomes, _state = fail_repeatedly(failure)
    assert outcomes[-1] == outcome


CUSTOM = Limits(
    allowed_retries=3,
    lockout_duration=timedelta(minutes=5),
    allowed_lockouts=2,
    long_duration=timedelta(hours=2),
    valid_duration=timedelta(hours=6),
)


@pytest.mark.parametrize(
    ("failure", "outcome"),
    [
        (1, "2 tries left"),
        (3, "lockout #1 for 0:05:00"),
        (4, "2 tries left"),
        (6, "long lockout #2 for 2:00:00"),
        (7, "2 tries left"),
        (9, "lockout #1 for 0:05:00"),
    ],
)
def test_custom_limits(failure, outcome):
    """allowed_retries=3, allowed_lockouts=2: the 3rd failure locks for
    `lockout_duration`, the 6th for `long_duration`."""
    outcomes, _state = fail_repeatedly(failure, CUSTOM)
    assert outcomes[-1] == outcome


def test_one_retry_one_lockout_means_every_failure_is_a_long_lockout():
    limits = Limits(allowed_retries=1, allowed_lockouts=1)
    outcomes, _state = fail_repeatedly(3, limits)
    assert outcomes == ["long lockout #1 for 1 day, 0:00:00"] * 3


@pytest.mark.parametrize(
    ("moment", "verdict"),
    [
        (timedelta(0), (LOCKED, 1200)),
        (timedelta(minutes=10), (LOCKED, 600)),
        (timedelta(minutes=20) - timedelta(seconds=1), (LOCKED, 1)),
        (timedelta(minutes=20), (ALLOWED, None)),  # 4 tries, as the count is kept
    ],
)
def test_lockout_lasts_lockout_duration(moment, verdict):
    _outcomes, state = fail_repeatedly(4)
    locked_at = state.last_failure
    now = locked_at + moment
    result = policy.check(policy.refresh(state, now, DEFAULTS), now, DEFAULTS)
    if verdict[0] == LOCKED:
        assert (result.status, result.retry_after(now)) == verdict
    else:
        assert (result.status, result.tries_left) == (ALLOWED, 4)


def test_the_count_is_kept_after_a_lockout():
    """The next lockout comes after `allowed_retries` more failures, not one."""
    _outcomes, state = fail_repeatedly(4)
    now = state.locked_until
    state = policy.refresh(state, now, DEFAULTS)
    assert state.failures == 4
    assert policy.check(state, now, DEFAULTS).tries_left == 4


# A count is forgotten once `valid_duration` passes with no failure from the client.
@pytest.mark.parametrize(
    ("quiet_for", "tries_left"),
    [
        (timedelta(hours=1), 1),
        (timedelta(hours=12) - timedelta(seconds=1), 1),
        (timedelta(hours=12), 4),
        (timedelta(days=3), 4),
    ],
)
def test_count_is_forgotten_after_valid_duration(quiet_for, tries_left):
    _outcomes, state = fail_repeatedly(3)
    now = state.last_failure + quiet_for
    verdict = policy.check(policy.refresh(state, now, DEFAULTS), now, DEFAULTS)
    assert verdict.tries_left == tries_left


def test_valid_window_runs_from_the_last_failure_not_the_first():
    state, _ = attempt(CounterState(), T0)
    state, _ = attempt(state, T0 + timedelta(hours=11))
    now = T0 + timedelta(hours=22)  # 22 h after the first, 11 h after the last
    assert policy.refresh(state, now, DEFAULTS).failures == 2


def test_lockouts_older_than_the_valid_window_do_not_lead_to_a_long_lockout():
    """Three lockouts, then a quiet half day: the 4th lockout is a normal one
    again, numbered 1."""
    outcomes, state = fail_repeatedly(12)
    assert outcomes[-1] == "lockout #3 for 0:20:00"
    now = state.last_failure + timedelta(hours=12)
    for _ in range(4):
        state, lockout = attempt(state, now)
        now += MINUTE
    assert describe(state, lockout, DEFAULTS) == "lockout #1 for 0:20:00"


def test_a_count_is_not_forgotten_while_its_lockout_runs():
    limits = Limits(
        allowed_retries=2,
        allowed_lockouts=2,
        long_duration=timedelta(hours=30),
        valid_duration=timedelta(hours=12),
    )
    outcomes, state = fail_repeatedly(4, limits)
    assert outcomes[-1] == "long lockout #2 for 1 day, 6:00:00"
    now = state.last_failure + timedelta(hours=20)
    assert (
        policy.check(policy.refresh(state, now, limits), now, limits).status == LOCKED
    )


# Tries let through to the password check but not yet failed ("pending", from
# parallel requests) use up tries too.
@pytest.mark.parametrize(
    ("failures", "pending", "status", "tries_left"),
    [
        (0, 0, ALLOWED, 4),
        (0, 3, ALLOWED, 1),
        (0, 4, BUSY, 0),
        (2, 1, ALLOWED, 1),
        (2, 2, BUSY, 0),
        (3, 1, BUSY, 0),
        (4, 3, ALLOWED, 1),  # after a lockout ended: 4 tries again
    ],
)
def test_pending_tries_count_against_tries_left(failures, pending, status, tries_left):
    state = CounterState(
        failures=failures,
        last_failure=T0 if failures else None,
        pending=pending,
        pending_since=T0 if pending else None,
    )
    verdict = policy.check(state, T0, DEFAULTS)
    assert (verdict.status, verdict.tries_left) == (status, tries_left)


def test_parallel_requests_cannot_exceed_the_tries_left():
    """Ten requests arrive at once: four get to the password check, and the four
    failures lock the client out."""
    state, let_through = CounterState(), 0
    for _ in range(10):
        state = policy.refresh(state, T0, DEFAULTS)
        if policy.check(state, T0, DEFAULTS).allowed:
            state = policy.reserve(state, T0)
            let_through += 1
    assert let_through == 4

    lockouts = []
    for _ in range(let_through):
        state, lockout = policy.record_failure(state, T0, DEFAULTS)
        lockouts.append(lockout)
    assert lockouts[:3] == [None, None, None]
    assert lockouts[3] is not None and lockouts[3].number == 1
    assert (state.pending, state.pending_since) == (0, None)
    assert policy.check(state, T0, DEFAULTS).status == LOCKED


def test_a_failure_releases_its_pending_try():
    state = policy.reserve(policy.reserve(CounterState(), T0), T0)
    state, _ = policy.record_failure(state, T0, DEFAULTS)
    assert (state.failures, state.pending) == (1, 1)
    assert policy.check(state, T0, DEFAULTS).tries_left == 2


@pytest.mark.parametrize(
    ("elapsed", "status", "retry_after"),
    [
        (timedelta(0), BUSY, 60),
        (timedelta(seconds=59), BUSY, 1),
        (PENDING_TTL, ALLOWED, 0),
        (timedelta(hours=1), ALLOWED, 0),
    ],
)
def test_a_pending_try_expires_after_pending_ttl(elapsed, status, retry_after):
    """A try that never reports back (a crash) does not block the client forever."""
    assert PENDING_TTL == timedelta(seconds=60)
    state = CounterState()
    for _ in range(4):
        state = policy.reserve(state, T0)
    now = T0 + elapsed
    verdict = policy.check(policy.refresh(state, now, DEFAULTS), now, DEFAULTS)
    assert (verdict.status, verdict.retry_after(now)) == (status, retry_after)
    if status == ALLOWED:
        assert verdict.tries_left == 4


# A successful login forgives the failures made against the account that
# signed in, and only those (`forgive`): an IP's counter keeps a bounded tally
# of whose accounts its failures since the last lockout were against.

EDITOR = policy.account_tag("editor")
OTHER = policy.account_tag("someone-else")
OWN = policy.account_tag("mallory")  # an account the attacker owns


def fail_against(accounts, limits=DEFAULTS, state=None, now=T0):
    """One failure against each tag of `accounts`, a minute apart, any
    lockout waited out first. Returns the state and the last lockout."""
    state, lockout = state or CounterState(), None
    for account in accounts:
        now = max(now + MINUTE, state.locked_until or now)
        state = policy.reserve(policy.refresh(state, now, limits), now)
        state, lockout = policy.record_failure(state, now, limits, account=account)
    return state, lockout


def test_an_account_tag_is_a_short_digest_never_the_name():
    assert EDITOR == policy.account_tag("editor")
    assert len(EDITOR) == policy.TAG_LENGTH
    assert "editor" not in EDITOR
    assert EDITOR != OTHER


@pytest.mark.parametrize(
    ("failures", "forgiven", "left"),
    [
        ([EDITOR] * 3, 3, 0),
        ([EDITOR, OTHER, EDITOR], 2, 1),
        ([OTHER] * 3, 0, 3),
        ([None, EDITOR], 1, 1),  # a failure with no account is never forgiven
        ([], 0, 0),
    ],
)
def test_a_success_forgives_only_its_accounts_share(failures, forgiven, left):
    state, _ = fail_against(failures)
    after, count = policy.forgive(state, EDITOR)
    assert (count, after.failures) == (forgiven, left)
    assert EDITOR not in dict(after.tally)
    assert dict(after.tally) == {
        tag: n for tag, n in dict(state.tally).items() if tag != EDITOR
    }


def test_nothing_to_forgive_leaves_the_state_as_it_was():
    state, _ = fail_against([OTHER] * 2)
    assert policy.forgive(state, EDITOR) == (state, 0)


def test_forgiving_everything_leaves_no_window_running():
    state, _ = fail_against([EDITOR] * 2)
    after, _ = policy.forgive(state, EDITOR)
    assert (after.failures, after.last_failure, after.tally) == (0, None, ())


def test_the_tally_is_bounded():
    """`TALLY_SIZE` accounts at most; a failure against one more is kept in
    the count only and never forgiven; a tallied account still counts."""
    limits = Limits(allowed_retries=100)
    tags = [policy.account_tag(f"user{n}") for n in range(policy.TALLY_SIZE + 1)]
    state, _ = fail_against([*tags, tags[0]], limits)
    assert state.failures == policy.TALLY_SIZE + 2
    assert len(state.tally) == policy.TALLY_SIZE
    assert dict(state.tally)[tags[0]] == 2
    assert policy.forgive(state, tags[-1]) == (state, 0)
    after, count = policy.forgive(state, tags[0])
    assert (count, after.failures) == (2, policy.TALLY_SIZE)


def test_a_lockout_of_a_shared_count_keeps_its_count():
    """A lockout empties the tally of a count shared between accounts: their
    failures stay counted, so the next lockout still comes after
    `allowed_retries` more failures."""
    state, lockout = fail_against([EDITOR, OTHER, OTHER, OTHER])
    assert lockout is not None and state.tally == ()
    assert policy.forgive(state, EDITOR) == (state, 0)
    state, _ = fail_against([EDITOR], state=state, now=lockout.ends_at)
    after, count = policy.forgive(state, EDITOR)
    assert (count, after.failures) == (1, 4)  # only the one since the lockout
    assert policy.tries_left(after, DEFAULTS) == 4


def test_a_lockout_of_one_accounts_count_is_forgiven_to_its_owner():
    """The owner who mistyped into its own lockout starts again from zero
    once signed in; the lockout in force stays."""
    state, lockout = fail_against([EDITOR] * 4)
    after, count = policy.forgive(state, EDITOR)
    assert (count, after.failures) == (4, 0)
    assert after.locked_until == lockout.ends_at
    assert policy.forgive(state, OTHER) == (state, 0)


def test_a_long_lockout_empties_the_tally_even_of_one_account():
    state, lockout = fail_against([EDITOR] * 16)
    assert lockout.is_long
    assert (state.failures, state.tally) == (0, ())


def test_own_logins_do_not_delay_the_lockouts_against_another_account():
    """Rounds of two guesses against `editor` and one against the attacker's
    own account, each round followed by a login to its own: the lockouts
    come with the 4th, 8th, 12th and (long) 16th guess against `editor`, as
    without the own logins."""
    state, now, guesses, locked_at = CounterState(), T0, 0, []
    while not state.is_long:
        for account in (EDITOR, EDITOR, OWN):
            state, lockout = fail_against([account], state=state, now=now)
            now = state.last_failure
            guesses += account == EDITOR
            if lockout is not None:
                locked_at.append(guesses)
                break
        state, _ = policy.forgive(state, OWN)
    assert locked_at == [4, 8, 12, 16]


@pytest.mark.parametrize(
    ("failures", "tally", "forgiven", "left"),
    [
        # Damaged (an entry claiming more than the count): never below zero.
        (2, ((EDITOR, 5),), 2, 0),
        # An entry that would add failures: forgives nothing.
        (3, ((EDITOR, -2),), 0, 3),
        (3, ((EDITOR, 0),), 0, 3),
    ],
)
def test_a_damaged_tally_only_forgives_less(failures, tally, forgiven, left):
    state = CounterState(failures=failures, last_failure=T0, tally=tally)
    after, count = policy.forgive(state, EDITOR)
    assert (count, after.failures) == (forgiven, left)


LATER = T0 + timedelta(minutes=20)
MUCH_LATER = T0 + timedelta(days=1)


@pytest.mark.parametrize(
    ("verdicts", "winner"),
    [
        ([Verdict(ALLOWED, 3), Verdict(ALLOWED, 1)], Verdict(ALLOWED, 1)),
        ([Verdict(ALLOWED, 3), Verdict(LOCKED, 0, LATER)], Verdict(LOCKED, 0, LATER)),
        (
            [Verdict(LOCKED, 0, MUCH_LATER, True), Verdict(LOCKED, 0, LATER)],
            Verdict(LOCKED, 0, MUCH_LATER, True),
        ),
        (
            [Verdict(BUSY, 0, T0 + PENDING_TTL), Verdict(LOCKED, 0, LATER)],
            Verdict(LOCKED, 0, LATER),
        ),
        (
            [Verdict(ALLOWED, 2), Verdict(BUSY, 0, T0 + PENDING_TTL)],
            Verdict(BUSY, 0, T0 + PENDING_TTL),
        ),
        ([Verdict(ALLOWED, 4)], Verdict(ALLOWED, 4)),
    ],
    ids=[
        "fewest-tries-left",
        "locked-beats-allowed",
        "later-end-wins",
        "locked-beats-busy",
        "busy-beats-allowed",
        "single",
    ],
)
def test_strictest(verdicts, winner):
    """For `ip_or_username` each counter is judged on its own, the stricter wins,
    in whichever order the counters come."""
    assert policy.strictest(verdicts) == winner
    assert policy.strictest(list(reversed(verdicts))) == winner


@pytest.mark.parametrize(
    ("locked_for", "retry_after"),
    [
        (timedelta(seconds=1200), 1200),
        (timedelta(seconds=1199, milliseconds=200), 1200),  # rounded up
        (timedelta(milliseconds=1), 1),
        (timedelta(seconds=-5), 1),  # never 0 for a refused client
    ],
)
def test_retry_after_is_whole_seconds_rounded_up(locked_for, retry_after):
    assert Verdict(LOCKED, 0, T0 + locked_for).retry_after(T0) == retry_after


def test_an_allowed_verdict_has_no_retry_after():
    assert Verdict(ALLOWED, 4).retry_after(T0) == 0


def test_lockout_count():
    assert [policy.lockout_count(n, DEFAULTS) for n in (0, 3, 4, 7, 8, 15, 16)] == [
        0,
        0,
        1,
        1,
        2,
        3,
        4,
    ]
