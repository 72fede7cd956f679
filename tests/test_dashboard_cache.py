"""The "Login security" panel's figures are cached (Django's `default` cache,
local memory here: a real backend), so that a dashboard view costs no query in
the steady state, and are still fresh where it matters: an unlock or a new
lockout shows at once, a new failed login within a minute, a lockout that ends
when it ends. The clock is moved with time_machine (the local-memory cache
reads `time.time()`, which time_machine moves too)."""

from __future__ import annotations

import logging
import re
import zoneinfo
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from wagtail.users.models import UserProfile

from tests import services
from tests.test_dashboard import (
    HOME,
    NOW,
    _bars,
    _empty_default_cache,  # noqa: F401  (autouse: an empty cache per test)
    fail,
    make_attacks,
    manager_client,
)
from wagtail_loginlimit import dashboard_cache
from wagtail_loginlimit.models import Lockout

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
# Tables whose queries would be the panel's (axes' failure log, our lockouts).
PANEL_TABLES = re.compile(r'"(axes_\w+|wagtail_loginlimit_\w+)"')


@pytest.fixture
def attacks(db, time_machine):
    make_attacks(time_machine)


@pytest.fixture
def manager(db):
    return manager_client("manage_loginlimit")


def shown(client) -> dict:
    """What the panel says: its two numbers and the non-zero bars per day."""
    response = client.get(HOME)
    assert response.status_code == 200
    page = response.content.decode()
    active = re.search(r'data-loginlimit-active="(\d+)"', page)
    failures = re.search(r'data-loginlimit-failures="(\d+)"', page)
    as_of = re.search(r'data-loginlimit-as-of="([^"]+)"', page)
    assert active and failures and as_of, "no Login security panel"
    return {
        "active": int(active[1]),
        "failures_24h": int(failures[1]),
        "failures": _bars(page, "failures"),
        "lockouts": _bars(page, "lockouts"),
        "as_of": as_of[1],
    }


def queries_of(client) -> list[str]:
    with CaptureQueriesContext(connection) as context:
        assert client.get(HOME).status_code == 200
    return [query["sql"] for query in context.captured_queries]


def panel_queries(sql: list[str]) -> list[str]:
    return [query for query in sql if PANEL_TABLES.search(query)]


def unlock_in_admin(client, lockout: Lockout, capture) -> None:
    url = reverse(
        "wagtail_bulk_action", args=["wagtail_loginlimit", "lockout", "unlock"]
    )
    with capture(execute=True):  # the unlock is committed
        assert client.post(f"{url}?id={lockout.pk}").status_code == 302


# --- no query in the steady state ------------------------------------------


def test_a_second_view_makes_no_query_of_the_panel(attacks, manager):
    first = queries_of(manager)
    second = queries_of(manager)
    assert len(panel_queries(first)) == 4  # the figures, read once
    assert panel_queries(second) == []
    # As many queries as for an admin who is not shown the panel at all.
    without_panel = manager_client(username="editor")
    queries_of(without_panel)
    assert len(second) == len(queries_of(without_panel))


def test_a_second_view_shows_the_same_figures(attacks, manager):
    assert (
        shown(manager)
        == shown(manager)
        == {
            "active": 2,
            "failures_24h": 8,
            "failures": {
                "03/01/2025": 4,
                "03/09/2025": 2,
                "03/13/2025": 1,
                "03/14/2025": 8,
            },
            "lockouts": {"03/01/2025": 1, "03/14/2025": 2},
            "as_of": "2025-03-14T12:00:00+00:00",
        }
    )


# --- what shows at once, and what a minute later ------------------------------


def test_an_admin_unlock_shows_at_once(
    attacks, manager, django_capture_on_commit_callbacks
):
    assert shown(manager)["active"] == 2
    unlock_in_admin(
        manager,
        Lockout.objects.active().get(ip_address="203.0.113.7"),
        django_capture_on_commit_callbacks,
    )
    assert shown(manager)["active"] == 1


def test_an_unlock_from_the_command_line_shows_at_once(
    attacks, manager, django_capture_on_commit_callbacks
):
    assert shown(manager)["active"] == 2
    with django_capture_on_commit_callbacks(execute=True):
        call_command("loginlimit_unlock", "--all", stdout=StringIO())
    assert shown(manager)["active"] == 0


def test_a_bulk_unlock_drops_the_figures_once(
    attacks, manager, django_capture_on_commit_callbacks, monkeypatch
):
    """One `loginlimit_reset` per lifted lockout, but one new generation token
    (with a shared cache, each would be a round trip)."""
    from wagtail_loginlimit import unlocking

    calls = []
    real = dashboard_cache.invalidate
    monkeypatch.setattr(  # a spy around the real function, which still runs
        dashboard_cache, "invalidate", lambda: calls.append(1) or real()
    )
    assert shown(manager)["active"] == 2
    with django_capture_on_commit_callbacks(execute=True):
        lifted = unlocking.unlock_lockouts(Lockout.objects.active())
    assert (lifted, len(calls)) == (2, 1)
    assert shown(manager)["active"] == 0


def test_a_new_lockout_shows_at_once(
    attacks, manager, django_capture_on_commit_callbacks
):
    before = shown(manager)
    with django_capture_on_commit_callbacks(execute=True):
        fail("192.0.2.99", 4)
    after = shown(manager)
    assert (before["active"], after["active"]) == (2, 3)
    # Read afresh: the failures that led to it are counted too.
    assert (before["failures_24h"], after["failures_24h"]) == (8, 12)
    assert after["lockouts"]["03/14/2025"] == 3


def test_a_new_failed_login_shows_within_a_minute(attacks, manager, time_machine):
    assert shown(manager)["failures_24h"] == 8
    fail("192.0.2.99", 1)  # no lockout: nothing the plugin itself lifts or starts
    time_machine.move_to(NOW + timedelta(seconds=30), tick=False)
    late = shown(manager)
    assert late["failures_24h"] == 8  # still the figures of 12:00, and it says so
    assert late["as_of"] == "2025-03-14T12:00:00+00:00"
    time_machine.move_to(
        NOW + timedelta(seconds=dashboard_cache.CACHE_SECONDS + 1), tick=False
    )
    fresh = shown(manager)
    assert fresh["failures_24h"] == 9
    assert fresh["failures"]["03/14/2025"] == 9
    assert fresh["as_of"] == "2025-03-14T12:01:01+00:00"


def test_a_change_made_outside_the_plugin_shows_within_a_minute(
    attacks, manager, time_machine
):
    """Rows changed behind the plugin's back (SQL, Django's admin) send no
    event: the figures catch up when they expire."""
    assert shown(manager)["active"] == 2
    Lockout.objects.active().update(lifted_at=NOW)
    assert shown(manager)["active"] == 2
    time_machine.move_to(
        NOW + timedelta(seconds=dashboard_cache.CACHE_SECONDS + 1), tick=False
    )
    assert shown(manager)["active"] == 0


def test_a_lockout_that_ends_leaves_the_count_when_it_ends(
    attacks, manager, time_machine
):
    """Today's two lockouts began at 11:55 and end 20 minutes later, at 12:15:
    figures read 10 seconds before are not kept past that."""
    ends = NOW - timedelta(minutes=5) + timedelta(seconds=1200)
    assert {lockout.ends_at for lockout in Lockout.objects.active()} == {ends}
    time_machine.move_to(ends - timedelta(seconds=10), tick=False)
    assert shown(manager)["active"] == 2
    time_machine.move_to(ends + timedelta(seconds=1), tick=False)
    assert shown(manager)["active"] == 0


# --- time zones and dates -----------------------------------------------------


def in_berlin(client):
    profile = UserProfile.get_for_user(client.user)
    profile.current_time_zone = "Europe/Berlin"
    profile.save()
    return client


def test_each_time_zone_gets_its_own_chart(db, time_machine):
    # 23:30 UTC on 13 March is 00:30 on 14 March in Berlin.
    time_machine.move_to(datetime(2025, 3, 13, 23, 30, tzinfo=UTC), tick=False)
    fail("192.0.2.1", 1)
    time_machine.move_to(NOW, tick=False)
    in_utc = manager_client("manage_loginlimit")
    berlin = in_berlin(manager_client("manage_loginlimit", username="berliner"))

    for _ in range(2):  # read, then cached: each keeps its own days
        assert shown(in_utc)["failures"] == {"03/13/2025": 1}
        seen = shown(berlin)
        assert seen["failures"] == {"03/14/2025": 1}
        assert seen["as_of"] == "2025-03-14T13:00:00+01:00"


def test_a_new_local_day_gets_a_new_chart_at_once(db, time_machine):
    """At midnight in the admin's time zone the chart moves on a day, even if
    the figures were read a few seconds before."""
    before_midnight = datetime(2025, 3, 14, 23, 59, 50, tzinfo=BERLIN)
    time_machine.move_to(before_midnight - timedelta(minutes=1), tick=False)
    fail("192.0.2.1", 1)
    time_machine.move_to(before_midnight, tick=False)
    berlin = in_berlin(manager_client("manage_loginlimit"))
    assert shown(berlin)["failures"] == {"03/14/2025": 1}
    time_machine.move_to(before_midnight + timedelta(seconds=20), tick=False)
    page = berlin.get(HOME).content.decode()
    assert "03/15/2025" in page and "03/01/2025" not in page
    assert _bars(page, "failures") == {"03/14/2025": 1}


# --- a cache that cannot be reached -------------------------------------------


def test_without_a_cache_the_panel_reads_the_database(
    attacks, manager, caplog, django_capture_on_commit_callbacks
):
    """A real Redis client on a closed port: every view reads the database,
    an unlock still works, and nothing is logged above debug level."""
    down = {
        **django_settings.CACHES,  # (the counters' own cache in a `redis` run)
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{services.free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        },
    }
    caplog.set_level(logging.INFO)
    with override_settings(CACHES=down):
        assert shown(manager)["active"] == 2
        assert len(panel_queries(queries_of(manager))) == 4
        unlock_in_admin(
            manager,
            Lockout.objects.active().get(ip_address="203.0.113.7"),
            django_capture_on_commit_callbacks,
        )
        assert shown(manager)["active"] == 1
    assert not [
        record
        for record in caplog.records
        if (
            record.name.startswith("wagtail_loginlimit")
            and record.levelno >= logging.ERROR
        )
        or record.name == dashboard_cache.__name__
    ]


def test_keys_are_valid_on_every_backend():
    assert dashboard_cache.entry_key("Europe/Berlin:2025-03-01:14").endswith(
        ":Europe/Berlin:2025-03-01:14"
    )
    odd = dashboard_cache.entry_key("UTC+01:00 with spaces\n:2025-03-01:14")
    assert " " not in odd and "\n" not in odd and len(odd) < 250
