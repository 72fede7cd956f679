"""The counting rules through real logins on /admin/login/: Django's test client,
the real axes backend, middleware and handler, SQLite, and a password hasher that
counts its calls.

Every lockout method is set once in `WAGTAIL_LOGINLIMIT` and once in Settings →
Login limits (the `configure` fixture runs each test for both).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.forms import MultiWidget
from django.test import Client
from django.utils import timezone

from tests.conftest import PASSWORD, START
from tests.helpers import fail
from wagtail_loginlimit import storage
from wagtail_loginlimit.clients import ACCOUNT_BUDGET, counter_keys
from wagtail_loginlimit.clients import ClientIdentity as LoginClient
from wagtail_loginlimit.models import Lockout, LoginLimitSettings
from wagtail_loginlimit.policy import Limits

A = "203.0.113.7"
B = "198.51.100.9"

REFUSED = "refused"
LET_THROUGH = "let through"

_REMAINING = re.compile(r"(\d+) attempts? remaining\.")


def remaining(response) -> int | None:
    """The "N attempts remaining" the page shows, or None."""
    found = _REMAINING.findall(response.content.decode())
    return int(found[0]) if found else None


def outcome(response, hashed: bool) -> str:
    """A refused login is a 429 that never reached the password hasher; anything
    else was let through to the password check."""
    if response.status_code == 429:
        assert not hashed, "a refused login reached the password hasher"
        return REFUSED
    assert hashed, "a login that was let through never checked the password"
    return LET_THROUGH


def probe(login, hasher_calls, ip, username, password=PASSWORD) -> str:
    before = hasher_calls()
    response = login(username, password=password, ip=ip)
    return outcome(response, hasher_calls() > before)


# --- which clients a lockout refuses, per method -------------------------------

AS_EDITOR_FROM_A = [(A, "editor")] * 4
FROM_A_AS_FOUR_USERS = [(A, f"user{n}") for n in range(4)]
AS_EDITOR_FROM_FOUR_IPS = [(f"192.0.2.{n}", "editor") for n in range(1, 5)]

METHOD_SCENARIOS = [
    # method, the four failures, then one try: from where, as whom → outcome
    ("ip", AS_EDITOR_FROM_A, A, "editor", REFUSED),
    ("ip", AS_EDITOR_FROM_A, A, "someone-else", REFUSED),
    ("ip", AS_EDITOR_FROM_A, B, "editor", LET_THROUGH),
    ("ip", AS_EDITOR_FROM_A, B, "someone-else", LET_THROUGH),
    ("ip", AS_EDITOR_FROM_FOUR_IPS, B, "editor", LET_THROUGH),
    ("username", AS_EDITOR_FROM_A, A, "editor", REFUSED),
    ("username", AS_EDITOR_FROM_A, B, "editor", REFUSED),
    ("username", AS_EDITOR_FROM_A, B, "EDITOR", REFUSED),  # case-insensitive
    ("username", AS_EDITOR_FROM_A, B, " Editor ", REFUSED),
    ("username", AS_EDITOR_FROM_A, A, "someone-else", LET_THROUGH),
    ("username", AS_EDITOR_FROM_FOUR_IPS, B, "editor", REFUSED),
    ("username", FROM_A_AS_FOUR_USERS, A, "editor", LET_THROUGH),
    ("ip_and_username", AS_EDITOR_FROM_A, A, "editor", REFUSED),
    ("ip_and_username", AS_EDITOR_FROM_A, A, "Editor", REFUSED),
    ("ip_and_username", AS_EDITOR_FROM_A, A, "someone-else", LET_THROUGH),
    ("ip_and_username", AS_EDITOR_FROM_A, B, "editor", LET_THROUGH),
    ("ip_and_username", FROM_A_AS_FOUR_USERS, A, "editor", LET_THROUGH),
    ("ip_and_username", AS_EDITOR_FROM_FOUR_IPS, B, "editor", LET_THROUGH),
    ("ip_or_username", AS_EDITOR_FROM_A, A, "editor", REFUSED),
    ("ip_or_username", AS_EDITOR_FROM_A, A, "someone-else", REFUSED),
    ("ip_or_username", AS_EDITOR_FROM_A, B, "editor", REFUSED),
    ("ip_or_username", AS_EDITOR_FROM_A, B, "someone-else", LET_THROUGH),
    ("ip_or_username", FROM_A_AS_FOUR_USERS, A, "editor", REFUSED),  # the IP
    ("ip_or_username", FROM_A_AS_FOUR_USERS, B, "user0", LET_THROUGH),
    ("ip_or_username", AS_EDITOR_FROM_FOUR_IPS, B, "editor", REFUSED),  # the name
    ("ip_or_username", AS_EDITOR_FROM_FOUR_IPS, B, "someone-else", LET_THROUGH),
]


@pytest.mark.parametrize(
    ("method", "failures", "ip", "username", "expected"), METHOD_SCENARIOS
)
def test_who_a_lockout_refuses(
    configure, login, user, hasher_calls, method, failures, ip, username, expected
):
    configure(lockout_method=method)
    for failure_ip, failure_username in failures:
        login(failure_username, ip=failure_ip)
    assert probe(login, hasher_calls, ip, username) == expected


# The counter of A's network (`network_retries`), kept under every method.
NET_A = ("network", "203.0.113.0/24", "")


@pytest.mark.parametrize(
    ("method", "counters"),
    [
        ("ip", [("ip", A, ""), NET_A]),
        ("username", [NET_A, ("username", "", "editor")]),
        ("ip_and_username", [("ip_and_username", A, "editor"), NET_A]),
        ("ip_or_username", [("ip", A, ""), NET_A, ("username", "", "editor")]),
    ],
)
def test_each_method_keeps_one_counter_per_client(
    configure, login, user, clock, method, counters
):
    """Storage does not grow with the number of attempts: one row per counter
    (and one for the client's network), however many failures and lockouts."""
    configure(lockout_method=method)
    for _ in range(3):
        fail(login, 4, username="Editor")
        clock.shift(timedelta(minutes=20))
    fail(login, 3, username="Editor")
    every = storage.counters()
    stored = sorted(
        (c for c in every if c.entry_point != ACCOUNT_BUDGET),
        key=lambda counter: counter.scope,
    )
    assert [(c.scope, c.ip_group, c.username) for c in stored] == counters
    assert [c.failures for c in stored] == [15] * len(counters)
    # And one for the account's budget (`account_budget`), whatever the method.
    budget = [
        (c.username, c.failures) for c in every if c.entry_point == ACCOUNT_BUDGET
    ]
    assert budget == [("editor", 15)]


def test_ip_or_username_shows_the_stricter_count(configure, login, user):
    """Each of the two is counted on its own; the page shows the fewer tries."""
    configure(lockout_method="ip_or_username")
    fail(login, 2, ip=A, username="someone-else")  # IP A: 2
    assert remaining(login("editor", ip=B)) == 3  # editor: 1, IP B: 1
    assert remaining(login("editor", ip=A)) == 1  # editor: 2, IP A: 3


# --- IPv6 networks and IPv4-mapped addresses --------------------------------------

IPV6_SCENARIOS = [
    # ipv6_prefix (None: default 64), address that is locked out, probe → outcome
    (None, "2001:db8:1:2::1", "2001:db8:1:2::1", REFUSED),
    (None, "2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff", REFUSED),
    (None, "2001:db8:1:2::1", "2001:db8:1:3::1", LET_THROUGH),
    (None, "2001:DB8:1:2::1", "2001:db8:1:2:0:0:0:9", REFUSED),
    (48, "2001:db8:1:2::1", "2001:db8:1:ffff::1", REFUSED),
    (48, "2001:db8:1:2::1", "2001:db8:2::1", LET_THROUGH),
    (128, "2001:db8:1:2::1", "2001:db8:1:2::1", REFUSED),
    (128, "2001:db8:1:2::1", "2001:db8:1:2::2", LET_THROUGH),
    (None, "::ffff:203.0.113.7", "203.0.113.7", REFUSED),
    (None, "203.0.113.7", "::ffff:203.0.113.7", REFUSED),
    (None, "203.0.113.7", "::ffff:203.0.113.8", LET_THROUGH),
    (None, "203.0.113.7", "203.0.113.8", LET_THROUGH),  # IPv4 is never grouped
]


@pytest.mark.parametrize(("prefix", "locked", "ip", "expected"), IPV6_SCENARIOS)
def test_ipv6_clients_are_grouped_by_network(
    settings, login, user, hasher_calls, prefix, locked, ip, expected
):
    if prefix is not None:
        settings.WAGTAIL_LOGINLIMIT = {"ipv6_prefix": prefix}
    fail(login, 4, ip=locked)
    assert probe(login, hasher_calls, ip, "editor") == expected


def test_ipv6_lockout_is_recorded_under_its_network(login, user):
    fail(login, 4, ip="2001:db8:1:2::1")
    lockout = Lockout.objects.get()
    assert (lockout.ip_address, lockout.ip_group) == (
        "2001:db8:1:2::1",
        "2001:db8:1:2::/64",
    )


@pytest.mark.parametrize(
    ("method", "records"),
    [
        ("ip", [("ip", A, A, "")]),
        ("username", [("username", A, "", "editor")]),
        ("ip_and_username", [("ip_and_username", A, A, "editor")]),
        ("ip_or_username", [("ip", A, A, ""), ("username", A, "", "editor")]),
    ],
)
def test_each_lockout_is_a_record_of_its_own(
    configure, login, user, clock, method, records
):
    """Who (scope, IP, IP group, username), from when to when, how many failures."""
    configure(lockout_method=method)
    fail(login, 4, username="Editor")
    rows = list(Lockout.objects.order_by("scope"))
    assert [(r.scope, r.ip_address, r.ip_group, r.username) for r in rows] == records
    for row in rows:
        assert (row.started_at, row.ends_at) == (START, START + timedelta(minutes=20))
        assert (row.is_long, row.failure_count, row.number) == (False, 4, 1)
        assert (row.lifted_at, row.lifted_by, row.lift_reason) == (None, None, "")
        assert row.is_active


# --- the whole default flow ("Done when" of issue 2) ------------------------------


def test_default_flow(client, login, user, hasher_calls, clock):
    # Failures 1–3 say how many tries are left.
    assert [remaining(r) for r in fail(login, 3)] == [3, 2, 1]

    # The 4th failure answers with the lockout page: 429 and Retry-After: 1200.
    response = login("editor")
    assert response.status_code == 429
    assert response["Retry-After"] == "1200"
    assert b"Too many failed login attempts" in response.content

    # The right password is refused during the lockout without being hashed.
    before = hasher_calls()
    response = login("editor", password=PASSWORD)
    assert response.status_code == 429
    assert hasher_calls() == before
    assert "_auth_user_id" not in client.session

    # Refused attempts neither count nor extend the lockout.
    clock.shift(timedelta(minutes=5))
    assert login("editor")["Retry-After"] == "900"
    clock.shift(timedelta(minutes=14, seconds=59))
    assert login("editor", password=PASSWORD)["Retry-After"] == "1"

    # After the lockout ends the right password works again.
    clock.shift(timedelta(seconds=1))
    before = hasher_calls()
    response = login("editor", password=PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert hasher_calls() > before


def test_the_page_counts_down_in_singular_and_plural(login, user):
    pages = [r.content.decode() for r in fail(login, 3)]
    assert "3 attempts remaining." in pages[0]
    assert "2 attempts remaining." in pages[1]
    assert "1 attempt remaining." in pages[2]


def test_refused_attempts_do_not_count(login, user, clock):
    fail(login, 4)
    for _ in range(10):
        assert login("editor").status_code == 429
    clock.shift(timedelta(minutes=20))
    # The count was kept at 4 (not 14): one more failure leaves 3 tries.
    assert remaining(login("editor")) == 3
    assert Lockout.objects.count() == 1


def test_fourth_lockout_in_the_valid_window_lasts_24_hours(login, user, clock):
    retry_after = []
    for _lockout in range(4):
        responses = fail(login, 4)
        assert [r.status_code for r in responses] == [200, 200, 200, 429]
        retry_after.append(responses[-1]["Retry-After"])
        clock.shift(timedelta(minutes=20))
    assert retry_after == ["1200", "1200", "1200", "86400"]
    page = login("editor").content.decode()
    assert "You can try again in 23\xa0hours, 40\xa0minutes." in page  # 20 min later

    # Still refused after the normal 20 minutes, with the right password too.
    assert login("editor", password=PASSWORD).status_code == 429

    # When the long lockout ends the count has started again from zero.
    clock.shift(timedelta(hours=24) - timedelta(minutes=20))
    assert remaining(login("editor")) == 3
    assert list(
        Lockout.objects.order_by("started_at").values_list("number", "is_long")
    ) == [
        (1, False),
        (2, False),
        (3, False),
        (4, True),
    ]


@pytest.mark.parametrize(
    ("quiet_for", "fourth_failure"),
    [
        (timedelta(hours=12) - timedelta(seconds=1), 429),  # still counted: locked
        (timedelta(hours=12), 200),  # forgotten: "3 attempts remaining"
    ],
)
def test_count_is_forgotten_after_the_valid_window(
    login, user, clock, quiet_for, fourth_failure
):
    fail(login, 3)
    clock.shift(quiet_for)
    assert login("editor").status_code == fourth_failure


def test_successful_login_resets_the_count(client, login, user):
    fail(login, 3)
    assert login("editor", password=PASSWORD).status_code == 302
    client.logout()
    assert remaining(login("editor")) == 3
    counters = {c.entry_point or c.scope: c.failures for c in storage.counters()}
    # The network forgives the account's share too (tests/test_networks.py),
    # and the account's budget starts again with the new failure.
    assert counters == {"ip": 1, "network": 1, "account_budget": 1}


def test_unlock_resets_the_count(login, user, hasher_calls):
    fail(login, 4)
    assert login("editor", password=PASSWORD).status_code == 429

    result = storage.clear_and_lift(ip_group=A, reason="unlock")

    assert [lockout.ip_group for lockout in result.lockouts] == [A]
    lifted = Lockout.objects.get()
    assert (lifted.lift_reason, lifted.is_active) == ("unlock", False)
    assert remaining(login("editor")) == 3
    assert login("editor", password=PASSWORD).status_code == 302


def test_unlock_of_another_client_does_not_lift_this_lockout(login, user):
    fail(login, 4, ip=A)
    fail(login, 4, ip=B)
    storage.clear_and_lift(ip_group=B, reason="unlock")
    assert login("editor", password=PASSWORD, ip=A).status_code == 429
    assert login("editor", password=PASSWORD, ip=B).status_code == 302


# --- changing the settings --------------------------------------------------------


@pytest.mark.parametrize(
    ("new_retries", "next_failure"),
    [
        (2, "locked out"),  # the 2nd failure now reaches the limit
        (6, "4 attempts remaining"),
        (4, "2 attempts remaining"),
    ],
)
def test_changing_allowed_retries_takes_effect_on_the_next_attempt(
    admin_limits, login, user, new_retries, next_failure
):
    admin_limits(allowed_retries=4)
    assert remaining(login("editor")) == 3
    admin_limits(allowed_retries=new_retries)
    response = login("editor")
    if next_failure == "locked out":
        assert response.status_code == 429
    else:
        assert f"{remaining(response)} attempts remaining" == next_failure


def form_data(form) -> dict:
    """What a browser would post back for an unchanged form."""
    data = {}
    for bound in form:
        value, widget = bound.value(), bound.field.widget
        if isinstance(widget, MultiWidget):
            for index, part in enumerate(widget.decompress(value)):
                data[f"{bound.html_name}_{index}"] = part
        elif isinstance(value, bool):
            if value:
                data[bound.html_name] = "on"
        elif value is not None:
            data[bound.html_name] = value
    return data


def test_changing_allowed_retries_in_the_admin_panel(login, user, admin_user):
    """The same through Settings → Login limits, as an editor saves it."""
    editor = Client()
    editor.force_login(admin_user)
    settings_obj = LoginLimitSettings.load()
    url = f"/admin/settings/wagtail_loginlimit/loginlimitsettings/{settings_obj.pk}/"
    data = form_data(editor.get(url).context["form"])
    data["allowed_retries"] = 2

    assert remaining(login("editor")) == 3
    response = editor.post(url, data, REMOTE_ADDR="192.0.2.200")
    assert response.status_code == 302, response.context["form"].errors
    assert LoginLimitSettings.load().allowed_retries == 2
    assert login("editor").status_code == 429


@pytest.mark.parametrize("source", ["WAGTAIL_LOGINLIMIT", "settings panel"])
def test_disabled_counts_and_refuses_nothing(
    source, settings, admin_limits, login, user, hasher_calls
):
    if source == "WAGTAIL_LOGINLIMIT":
        settings.WAGTAIL_LOGINLIMIT = {"enabled": False}
    else:
        admin_limits(enabled=False)
    responses = fail(login, 10)
    assert {r.status_code for r in responses} == {200}
    assert {remaining(r) for r in responses} == {None}
    assert storage.counters() == []
    assert not Lockout.objects.exists()
    before = hasher_calls()
    assert login("editor", password=PASSWORD).status_code == 302
    assert hasher_calls() > before


def test_turning_the_plugin_off_lets_a_locked_out_client_in(admin_limits, login, user):
    fail(login, 4)
    admin_limits(enabled=False)
    assert login("editor", password=PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("durations", "retry_after"),
    [
        ({"lockout_duration": 300}, "300"),
        ({"lockout_duration": timedelta(hours=1)}, "3600"),
    ],
)
def test_lockout_duration_is_the_retry_after(
    configure, login, user, durations, retry_after
):
    configure(**durations)
    assert fail(login, 4)[-1]["Retry-After"] == retry_after


# --- tries that are still at the password check ("pending") -----------------------


def test_a_try_that_never_reports_back_is_forgotten_after_a_minute(login, user, clock):
    """Four tries reserved and never finished (e.g. the process died): the client
    waits a minute, then has its four tries again."""
    keys = counter_keys(LoginClient.build(A, "editor"), "ip")
    for _ in range(4):
        assert storage.begin_attempt(keys, timezone.now(), Limits()).allowed
    busy = login("editor", password=PASSWORD)
    assert (busy.status_code, busy["Retry-After"]) == (429, "60")
    clock.shift(timedelta(seconds=60))
    assert remaining(login("editor")) == 3


def test_successful_authenticate_without_login_uses_up_no_tries(client, user):
    # An API that calls authenticate() and never login(): the try reserved before
    # the password check is given back when the response leaves.
    for _ in range(6):
        response = client.post(
            "/api/token/", {"username": "editor", "password": PASSWORD}, REMOTE_ADDR=A
        )
        assert response.status_code == 200


def test_failures_through_an_api_still_lock_out(client, user):
    codes = [
        client.post(
            "/api/token/", {"username": "editor", "password": "wrong"}, REMOTE_ADDR=A
        ).status_code
        for _ in range(5)
    ]
    assert codes == [401, 401, 401, 429, 429]
