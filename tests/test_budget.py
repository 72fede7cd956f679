"""The attacker's budget (`wagtail_loginlimit.budget`): the most passwords one
client can try in a day, read off the counting rules. Each row says how the
fastest client spends its day."""

from datetime import timedelta

import pytest

from wagtail_loginlimit.budget import tries_before_deactivation, tries_per_day

MIN, HOUR, DAY = 60, 3600, 86400
DEFAULTS = {
    "allowed_retries": 4,
    "lockout_duration": 20 * MIN,
    "allowed_lockouts": 4,
    "long_duration": DAY,
    "valid_duration": 12 * HOUR,
}


@pytest.mark.parametrize(
    ("changes", "expected", "how"),
    [
        (
            {},
            31,
            "15 in the first hour (3 lockouts and 3 more), 12 h for the count to "
            "be forgotten, then the full round of 16 and its long lockout",
        ),
        (
            {"valid_duration": 30 * HOUR},
            16,
            "waiting for the count to be forgotten takes longer than the long "
            "lockout: one round of 16, then the long lockout fills the day",
        ),
        (
            {"allowed_lockouts": 1},
            7,
            "every lockout is long: 3 failures, 12 h, 4 more and the long lockout",
        ),
        (
            {"allowed_retries": 1, "allowed_lockouts": 1},
            1,
            "the first failure is a long lockout",
        ),
        (
            {"long_duration": 2 * HOUR},
            16 * 8,
            "a round of 16 takes 1 h of lockouts and 2 h of long lockout: "
            "eight rounds a day (every 3 h)",
        ),
        (
            {"allowed_retries": 6, "lockout_duration": HOUR, "valid_duration": DAY},
            24,
            "four lockouts of 6 (each an hour apart) begin within the day",
        ),
    ],
)
def test_tries_per_day(changes, expected, how):
    assert tries_per_day(**{**DEFAULTS, **changes}) == expected, how


def test_durations_may_be_timedeltas():
    as_timedeltas = {
        key: timedelta(seconds=value) if key.endswith("duration") else value
        for key, value in DEFAULTS.items()
    }
    assert tries_per_day(**as_timedeltas) == tries_per_day(**DEFAULTS)


def test_a_budget_never_shrinks_with_a_shorter_lockout():
    budgets = [
        tries_per_day(**{**DEFAULTS, "lockout_duration": seconds})
        for seconds in (40 * MIN, 20 * MIN, 10 * MIN, MIN)
    ]
    assert budgets == sorted(budgets)


def test_seconds_long_lockouts_give_a_bound_quickly():
    """Durations of a second make too many moments to try one by one: the
    answer is then a bound, never below what the exact count finds."""
    tiny = {
        "allowed_retries": 3,
        "lockout_duration": 1,
        "allowed_lockouts": 1000,
        "long_duration": 1,
        "valid_duration": 2,
    }
    assert tries_per_day(**tiny) >= 3 * DAY  # 3 failures every second
    assert tries_per_day(**tiny) <= 3 * DAY + 3 * 1000


@pytest.mark.parametrize(
    ("retries", "after", "expected"), [(4, 0, 0), (4, 2, 8), (6, 2, 12)]
)
def test_tries_before_deactivation(retries, after, expected):
    assert (
        tries_before_deactivation(allowed_retries=retries, deactivate_after=after)
        == expected
    )
