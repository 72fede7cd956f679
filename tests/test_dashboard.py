"""The "Login security" panel on the Wagtail dashboard: numbers, the 14-day
chart (real failed logins, the clock moved with time_machine), and who sees it."""

from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, date, datetime, timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import caches
from django.core.cache.backends.locmem import LocMemCache
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from wagtail.test.utils import WagtailTestUtils

from tests.conftest import PASSWORD
from wagtail_loginlimit import dashboard
from wagtail_loginlimit.chart import nice_ceiling

NOW = datetime(2025, 3, 14, 12, 0, tzinfo=UTC)
HOME = reverse("wagtailadmin_home")


def fail(ip, times):
    attacker = Client()
    for _ in range(times):
        attacker.post(
            "/admin/login/", {"username": "mallory", "password": "x"}, REMOTE_ADDR=ip
        )


@pytest.fixture(autouse=True)
def _empty_default_cache():
    """The panel's figures are cached in the `default` cache (local memory
    here), which outlives each test's database: every test starts and ends
    with it empty."""
    caches["default"].clear()
    yield
    if isinstance(caches["default"], LocMemCache):
        caches["default"].clear()


@pytest.fixture
def attacks(db, time_machine):
    make_attacks(time_machine)


def make_attacks(time_machine):
    """13 days ago: a lockout (4 failures); 5 days ago: 2 failures; 30 hours
    ago: 1 failure; today: two lockouts (8 failures, 5 minutes ago); 20 days
    ago (outside the chart): a lockout. The clock is left at NOW."""
    for when, ip, times in [
        (NOW - timedelta(days=20), "192.0.2.20", 4),
        (NOW - timedelta(days=13), "192.0.2.13", 4),
        (NOW - timedelta(days=5), "192.0.2.5", 2),
        (NOW - timedelta(hours=30), "192.0.2.30", 1),
        (NOW - timedelta(minutes=5), "203.0.113.7", 4),
        (NOW - timedelta(minutes=5), "198.51.100.9", 4),
    ]:
        time_machine.move_to(when, tick=False)
        fail(ip, times)
    time_machine.move_to(NOW, tick=False)


def manager_client(*codenames, username="manager"):
    user = WagtailTestUtils.create_user(username, password=PASSWORD)
    group, _ = Group.objects.get_or_create(name=f"Team {'+'.join(codenames)}")
    group.permissions.set(
        Permission.objects.filter(codename__in=["access_admin", *codenames])
    )
    user.groups.add(group)
    client = Client()
    client.force_login(user)
    client.user = user
    return client


def test_panel_shows_numbers_and_chart_to_permitted_users(attacks):
    page = manager_client("manage_loginlimit").get(HOME).content.decode()
    assert 'id="loginlimit"' in page or "Login security" in page
    assert 'data-loginlimit-active="2"' in page
    assert "<strong>2</strong> active lockouts" in page
    assert 'data-loginlimit-failures="8"' in page  # the one 30 hours ago is out
    assert "<svg" in page and 'role="img"' in page
    assert reverse("wagtail_loginlimit:active_lockouts") in page
    assert reverse("wagtail_loginlimit:failed_logins") in page
    # No external asset: the chart is inline markup only.
    start = page.rindex("<svg", 0, page.index('class="loginlimit-chart"'))
    svg = page[start : page.index("</svg>", start)]
    assert "<rect" in svg
    assert "href=" not in svg and "src=" not in svg


def test_chart_counts_per_day_over_14_days(attacks):
    days = dashboard.last_days()
    assert (
        len(days) == 14
        and days[-1] == date(2025, 3, 14)
        and days[0] == date(2025, 3, 1)
    )
    svg = str(dashboard.render_chart())
    failures = _bars(svg, "failures")
    lockouts = _bars(svg, "lockouts")
    assert failures == {
        "03/01/2025": 4,
        "03/09/2025": 2,
        "03/13/2025": 1,
        "03/14/2025": 8,
    }
    assert lockouts == {"03/01/2025": 1, "03/14/2025": 2}
    # 14 days, two bars each; the day 20 days ago is not drawn.
    assert svg.count("<rect") == 28
    assert "02/22/2025" not in svg


def _bars(svg: str, series: str) -> dict[str, int]:
    """Non-zero bars of a series, from their tooltips: {date: value}."""
    found = re.findall(
        rf'class="loginlimit-chart__{series}"[^>]*><title>([^:]+): [^:]+: (\d+)</title>',
        svg,
    )
    return {day: int(value) for day, value in found if int(value)}


def test_one_aggregate_query_per_series(attacks, django_assert_num_queries):
    with django_assert_num_queries(2):
        dashboard.render_chart()


def test_days_follow_the_admins_time_zone(db, time_machine):
    # 23:30 UTC on 13 March is 14 March in Berlin.
    time_machine.move_to(datetime(2025, 3, 13, 23, 30, tzinfo=UTC), tick=False)
    fail("192.0.2.1", 1)
    time_machine.move_to(NOW, tick=False)
    from axes.models import AccessFailureLog

    berlin = zoneinfo.ZoneInfo("Europe/Berlin")
    with timezone.override(berlin):
        days = dashboard.last_days()
        assert dashboard.per_day(AccessFailureLog.objects.all(), "attempt_time", days)[
            -2:
        ] == [0, 1]
    with timezone.override(UTC):
        days = dashboard.last_days()
        assert dashboard.per_day(AccessFailureLog.objects.all(), "attempt_time", days)[
            -2:
        ] == [1, 0]


def test_panel_is_absent_without_the_permission(attacks):
    page = manager_client().get(HOME).content.decode()
    assert "data-loginlimit-active" not in page
    assert "loginlimit-chart" not in page


def test_empty_chart_renders(db, time_machine):
    time_machine.move_to(NOW, tick=False)
    svg = str(dashboard.render_chart())
    assert svg.count("<rect") == 28
    assert "Failed logins: 0" in svg


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, (1, 1)),
        (3, (3, 1)),
        (4, (4, 1)),
        (5, (6, 2)),
        (9, (10, 5)),
        (37, (40, 10)),
        (1234, (1500, 500)),
    ],
)
def test_axis_ends_on_a_round_number(value, expected):
    assert nice_ceiling(value) == expected


def test_the_axis_names_the_month_where_the_chart_and_a_month_begin():
    """Issue 12, item 14: "19 20 … 1 2" left the month to guess."""
    days = dashboard.last_days(14, today=date(2026, 12, 2))
    svg = str(dashboard.draw_chart(days, [0] * 14, [0] * 14))
    labels = re.findall(r'text-anchor="middle"[^>]*>([^<]+)</text>', svg)
    assert labels[0] == "19 Nov"
    assert labels[1] == "20"
    assert labels[12] == "1 Dec"
    assert labels[13] == "2"


def test_the_chart_takes_the_panels_width():
    svg = str(dashboard.draw_chart(dashboard.last_days(), [1] * 14, [0] * 14))
    assert "width:100%" in svg
    assert "max-width" not in svg
