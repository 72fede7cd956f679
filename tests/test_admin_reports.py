"""The login-security reports in the Wagtail admin, driven through real failed
logins on /admin/login/ (an attacker's own test client), SQLite, and an admin
logged in with Wagtail's test helpers."""

from __future__ import annotations

import csv
import io
import os
from datetime import timedelta

import pytest
from axes.models import AccessFailureLog
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from wagtail.test.utils import WagtailTestUtils

from tests.conftest import PASSWORD
from wagtail_loginlimit import events
from wagtail_loginlimit.models import Deactivation, Lockout

ACTIVE = reverse("wagtail_loginlimit:active_lockouts")
HISTORY = reverse("wagtail_loginlimit:lockout_history")
FAILED = reverse("wagtail_loginlimit:failed_logins")


@pytest.fixture
def attack(db):
    """Failed logins from `ip` as `username`, from a client of its own."""

    def run(ip, username="editor", times=4, password="wrong"):
        attacker = Client()
        return [
            attacker.post(
                "/admin/login/",
                {"username": username, "password": password},
                REMOTE_ADDR=ip,
            )
            for _ in range(times)
        ]

    return run


@pytest.fixture
def admin_client(db):
    admin = WagtailTestUtils.create_superuser("boss", password=PASSWORD)
    admin_client = Client()
    admin_client.force_login(admin)
    admin_client.user = admin
    return admin_client


def listed(response) -> str:
    assert response.status_code == 200, response.content[:500]
    return response.content.decode()


def rows_of(page: str) -> str:
    """The listing's rows, without the page around them."""
    return page[page.index("<tbody") :]


# --- listings ---------------------------------------------------------------


def test_active_lockouts_lists_current_lockouts_only(attack, admin_client, user):
    attack("203.0.113.7")
    attack("198.51.100.9", username="someone")
    # An old lockout that has ended is history, not active.
    Lockout.objects.filter(ip_address="198.51.100.9").update(
        ends_at=timezone.now() - timedelta(minutes=1)
    )
    page = listed(admin_client.get(ACTIVE))
    assert "203.0.113.7" in page
    assert "198.51.100.9" not in page
    assert "Unlock" in page

    history = listed(admin_client.get(HISTORY))
    assert "203.0.113.7" in history and "198.51.100.9" in history


def test_failed_logins_lists_axes_failure_log(attack, admin_client):
    attack("203.0.113.7", username="mallory", times=2)
    page = listed(admin_client.get(FAILED))
    assert "mallory" in page
    assert "203.0.113.7" in page
    assert AccessFailureLog.objects.count() == 2


def test_lockout_history_shows_how_a_lockout_was_lifted(attack, admin_client):
    attack("203.0.113.7")
    lockout = Lockout.objects.get()
    admin_client.post(_unlock_url([lockout.pk]))
    page = listed(admin_client.get(HISTORY, {"lifted": "unlock"}))
    assert "Unlocked by an administrator" in page
    assert "boss" in page  # lifted by
    assert "203.0.113.7" not in listed(admin_client.get(HISTORY, {"lifted": "none"}))


# --- filters ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ip_filter", "expected", "not_expected"),
    [
        ("203.0.113.7", {"203.0.113.7"}, {"203.0.113.70", "198.51.100.9"}),
        ("203.0.113.0/24", {"203.0.113.7", "203.0.113.70"}, {"198.51.100.9"}),
        ("203.0.113.64/26", {"203.0.113.70"}, {"203.0.113.7", "198.51.100.9"}),
        ("198.51.0.0/16", {"198.51.100.9"}, {"203.0.113.7"}),
        ("192.0.0.0/3", {"198.51.100.9", "203.0.113.7"}, set()),
        ("2001:db8::/32", {"2001:db8:1:2::5"}, {"203.0.113.7", "2001:db9::1"}),
        ("2001:db8:1:2::/64", {"2001:db8:1:2::5"}, {"2001:db9::1"}),
        ("2001:db8:1:2::5/128", {"2001:db8:1:2::5"}, {"2001:db9::1"}),
    ],
)
def test_ip_and_cidr_filter(attack, admin_client, ip_filter, expected, not_expected):
    for ip in (
        "203.0.113.7",
        "203.0.113.70",
        "198.51.100.9",
        "2001:db8:1:2::5",
        "2001:db9::1",
    ):
        attack(ip, times=1)
    page = listed(admin_client.get(FAILED, {"ip": ip_filter}))
    for ip in expected:
        assert f">{ip}<" in page.replace("\n", "").replace(" ", ""), ip
    for ip in not_expected:
        assert f">{ip}<" not in page.replace("\n", "").replace(" ", ""), ip


def test_cidr_filter_on_lockouts_matches_ipv6_group(attack, admin_client):
    attack("2001:db8:1:2::5")
    attack("203.0.113.7")
    page = listed(admin_client.get(HISTORY, {"ip": "2001:db8::/32"}))
    assert "2001:db8:1:2::/64" in page
    assert "203.0.113.7" not in page


@pytest.mark.parametrize("bad", ["203.0.113.0/33", "not an ip", "1.2.3.4/x", "::1::2"])
def test_bad_cidr_is_a_message_not_a_500(attack, admin_client, bad):
    attack("203.0.113.7", times=1)
    for url in (FAILED, ACTIVE, HISTORY):
        page = listed(admin_client.get(url, {"ip": bad}))
        assert "Enter an IP address or a CIDR range" in page
        assert "203.0.113.7" not in page  # nothing listed under a broken filter


def test_username_filter_is_case_insensitive_substring(attack, admin_client):
    attack("203.0.113.7", username="Mallory.Evil", times=1)
    attack("203.0.113.8", username="alice", times=1)
    page = listed(admin_client.get(FAILED, {"username": "mallory"}))
    assert "Mallory.Evil" in page
    assert "alice" not in page


def test_date_range_filter(attack, admin_client, time_machine):
    time_machine.move_to(timezone.now() - timedelta(days=10), tick=False)
    attack("198.51.100.9", username="old", times=4)
    time_machine.move_to(timezone.now() + timedelta(days=10), tick=False)
    attack("203.0.113.7", username="new", times=4)
    today = timezone.localdate()
    params = {"started_at_from": (today - timedelta(days=2)).isoformat()}
    page = listed(admin_client.get(HISTORY, params))
    assert "203.0.113.7" in page and "198.51.100.9" not in page
    params = {"attempt_time_to": (today - timedelta(days=5)).isoformat()}
    page = listed(admin_client.get(FAILED, params))
    assert ">old<" in page.replace(" ", "").replace("\n", "")
    assert ">new<" not in page.replace(" ", "").replace("\n", "")


def test_short_and_long_filter(attack, admin_client):
    attack("203.0.113.7")
    attack("198.51.100.9")
    Lockout.objects.filter(ip_address="198.51.100.9").update(is_long=True)
    long_page = listed(admin_client.get(ACTIVE, {"length": "long"}))
    assert "198.51.100.9" in long_page and "203.0.113.7" not in long_page
    short_page = listed(admin_client.get(ACTIVE, {"length": "short"}))
    assert "203.0.113.7" in short_page and "198.51.100.9" not in short_page


def test_search_and_ordering(attack, admin_client):
    attack("203.0.113.7", username="zed", times=1)
    attack("198.51.100.9", username="amy", times=1)
    page = listed(admin_client.get(FAILED, {"q": "198.51"}))
    assert "amy" in page and ">zed<" not in page.replace(" ", "").replace("\n", "")
    # Compared within the listing: a random token in the page's head (the CSRF
    # token) may hold "zed" too.
    page = rows_of(listed(admin_client.get(FAILED, {"ordering": "username"})))
    assert page.index("amy") < page.index("zed")
    page = rows_of(listed(admin_client.get(FAILED, {"ordering": "-username"})))
    assert page.index("zed") < page.index("amy")


def test_pagination(attack, admin_client):
    attack("203.0.113.7", times=1)
    AccessFailureLog.objects.bulk_create(
        [
            AccessFailureLog(
                username=f"bot{n:03}",
                ip_address="192.0.2.1",
                user_agent="",
                http_accept="",
                path_info="/",
            )
            for n in range(60)
        ]
    )
    first = listed(admin_client.get(FAILED, {"ordering": "username"}))
    assert "bot000" in first and "bot055" not in first
    assert "Page 1 of 2" in first
    second = listed(admin_client.get(FAILED, {"ordering": "username", "p": 2}))
    assert "bot055" in second


# --- exports ------------------------------------------------------------------


def test_csv_export_of_active_lockouts(attack, admin_client):
    attack("203.0.113.7")
    response = admin_client.get(ACTIVE, {"export": "csv"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:4] == ["IP address", "IP group", "Username", "Locked by"]
    assert rows[1][0] == "203.0.113.7"
    assert rows[1][3] == "IP address"
    assert len(rows) == 2


def test_csv_export_follows_filters_and_defuses_formulas(attack, admin_client):
    attack("203.0.113.7", username='=HYPERLINK("http://evil")', times=1)
    attack("198.51.100.9", username="alice", times=1)
    response = admin_client.get(FAILED, {"export": "csv", "ip": "203.0.113.0/24"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == [
        "Time",
        "IP address",
        "Username",
        "Path",
        "Browser (user agent)",
        "Caused a lockout",
    ]
    assert len(rows) == 2
    assert rows[1][2] == '\'=HYPERLINK("http://evil")'


def test_xlsx_export(attack, admin_client):
    attack("203.0.113.7", username="mallory", times=2)
    response = admin_client.get(FAILED, {"export": "xlsx"})
    assert response.status_code == 200
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    rows = list(workbook.active.iter_rows(values_only=True))
    assert rows[0][:3] == ("Time", "IP address", "Username")
    assert [row[1:3] for row in rows[1:]] == [("203.0.113.7", "mallory")] * 2


def test_export_headings_are_translated(attack, admin_client):
    from wagtail.users.models import UserProfile

    attack("203.0.113.7")
    profile = UserProfile.get_for_user(admin_client.user)
    profile.preferred_language = "de"
    profile.save()
    response = admin_client.get(HISTORY, {"export": "csv"})
    header = b"".join(response.streaming_content).decode().splitlines()[0]
    # Headings shared with Django's and Wagtail's catalogues are German already;
    # the plugin's own catalogue translates the rest.
    assert header.startswith("IP-Adresse,")
    assert "Benutzername" in header


# --- unlocking ----------------------------------------------------------------


def _unlock_url(ids, next_url=ACTIVE):
    query = "&".join(f"id={pk}" for pk in ids)
    return (
        reverse("wagtail_bulk_action", args=["wagtail_loginlimit", "lockout", "unlock"])
        + f"?{query}&next={next_url}"
    )


def test_unlock_asks_first(attack, admin_client):
    attack("203.0.113.7")
    lockout = Lockout.objects.get()
    page = listed(admin_client.get(_unlock_url([lockout.pk])))
    assert "Yes, unlock" in page
    assert "203.0.113.7" in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert Lockout.objects.active().count() == 1  # a GET changes nothing


def test_unlock_needs_csrf(attack, admin_client):
    attack("203.0.113.7")
    lockout = Lockout.objects.get()
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(admin_client.user)
    assert strict.post(_unlock_url([lockout.pk])).status_code == 403
    assert Lockout.objects.active().count() == 1


def test_unlock_one_lets_the_client_log_in_and_fires_reset(
    attack, admin_client, user, django_capture_on_commit_callbacks
):
    attack("203.0.113.7")
    attack("198.51.100.9")
    assert attack("203.0.113.7", password=PASSWORD, times=1)[0].status_code == 429
    lockout = Lockout.objects.get(ip_address="203.0.113.7")
    received = []

    def on_reset(sender, event, **kwargs):
        received.append(event)

    events.loginlimit_reset.connect(on_reset)
    try:
        # Announcements go out once the transaction commits.
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(_unlock_url([lockout.pk]))
    finally:
        events.loginlimit_reset.disconnect(on_reset)
    assert response.status_code == 302
    assert response["Location"] == ACTIVE

    lockout.refresh_from_db()
    assert lockout.lifted_by == admin_client.user
    assert lockout.lift_reason == Lockout.LIFTED_UNLOCK
    [event] = received
    assert event.reason == Lockout.LIFTED_UNLOCK
    assert (
        event.lockout.pk == lockout.pk and event.lockout.lifted_by == admin_client.user
    )
    assert event.request.user == admin_client.user

    # The unlocked client logs in; the other one stays locked out.
    assert attack("203.0.113.7", password=PASSWORD, times=1)[0].status_code == 302
    assert attack("198.51.100.9", password=PASSWORD, times=1)[0].status_code == 429
    page = listed(admin_client.get(ACTIVE))
    assert "1 lockout lifted." in page


def test_unlock_many(attack, admin_client, user):
    for ip in ("203.0.113.7", "198.51.100.9", "192.0.2.1"):
        attack(ip)
    ids = list(
        Lockout.objects.filter(
            ip_address__in=["203.0.113.7", "198.51.100.9"]
        ).values_list("pk", flat=True)
    )
    admin_client.post(_unlock_url(ids))
    assert list(Lockout.objects.active().values_list("ip_address", flat=True)) == [
        "192.0.2.1"
    ]
    for ip in ("203.0.113.7", "198.51.100.9"):
        assert attack(ip, password=PASSWORD, times=1)[0].status_code == 302


def test_unlock_pair_scope_clears_only_the_pair(attack, admin_client, user, settings):
    settings.WAGTAIL_LOGINLIMIT = {"lockout_method": "ip_and_username"}
    attack("203.0.113.7", username="editor")
    attack("203.0.113.7", username="other")
    lockout = Lockout.objects.get(username="editor")
    admin_client.post(_unlock_url([lockout.pk]))
    assert list(Lockout.objects.active().values_list("username", flat=True)) == [
        "other"
    ]
    assert (
        attack("203.0.113.7", username="editor", password=PASSWORD, times=1)[
            0
        ].status_code
        == 302
    )


def test_unlock_of_an_ended_lockout_says_so(attack, admin_client):
    attack("203.0.113.7")
    lockout = Lockout.objects.get()
    Lockout.objects.update(ends_at=timezone.now() - timedelta(seconds=1))
    page = listed(admin_client.get(_unlock_url([lockout.pk])))
    assert "already ended" in page and "Yes, unlock" not in page


def test_unlock_ignores_garbage_ids(admin_client):
    response = admin_client.get(
        reverse("wagtail_bulk_action", args=["wagtail_loginlimit", "lockout", "unlock"])
        + "?id=abc&id=1%27"
    )
    assert response.status_code == 200
    assert "No lockouts were selected." in response.content.decode()


def test_active_lockouts_offers_bulk_unlock(attack, admin_client):
    attack("203.0.113.7")
    page = listed(admin_client.get(ACTIVE))
    assert "data-bulk-action-checkbox" in page
    assert (
        reverse("wagtail_bulk_action", args=["wagtail_loginlimit", "lockout", "unlock"])
        in page
    )


# --- deactivated accounts -------------------------------------------------------

DEACTIVATED = reverse("wagtail_loginlimit:deactivated_accounts")


def _reactivate_url(ids, next_url=DEACTIVATED):
    query = "&".join(f"id={pk}" for pk in ids)
    return (
        reverse(
            "wagtail_bulk_action",
            args=["wagtail_loginlimit", "deactivation", "reactivate"],
        )
        + f"?{query}&next={next_url}"
    )


@pytest.fixture
def deactivate(attack, settings):
    """Get an account deactivated the way an attacker would: with
    `deactivate_after = 2`, 8 failures against it from different IPs."""
    settings.WAGTAIL_LOGINLIMIT = {"deactivate_after": 2}

    def run(username):
        for n in range(8):
            attack(f"192.0.2.{n + 1}", username=username, times=1)
        account = get_user_model().objects.get(username=username)
        assert not account.is_active
        return account

    return run


def test_deactivated_accounts_lists_open_deactivations(deactivate, admin_client, user):
    deactivate("editor")
    page = listed(admin_client.get(DEACTIVATED))
    assert "editor@example.com" in page
    assert "Reactivate" in page
    csv_rows = list(
        csv.reader(
            io.StringIO(
                b"".join(
                    admin_client.get(DEACTIVATED, {"export": "csv"}).streaming_content
                ).decode()
            )
        )
    )
    assert csv_rows[0][:2] == ["Account", "Email"]
    assert csv_rows[1][:2] == ["editor", "editor@example.com"]


def test_reactivate_one_click(
    deactivate, admin_client, user, django_capture_on_commit_callbacks
):
    deactivate("editor")
    record = Deactivation.objects.get()
    assert "Yes, reactivate" in listed(admin_client.get(_reactivate_url([record.pk])))
    received = []

    def on_reactivate(sender, event, **kwargs):
        received.append(event)

    events.loginlimit_reactivate.connect(on_reactivate)
    try:
        # Announcements go out once the transaction commits.
        with django_capture_on_commit_callbacks(execute=True):
            response = admin_client.post(_reactivate_url([record.pk]))
    finally:
        events.loginlimit_reactivate.disconnect(on_reactivate)
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.is_active
    record.refresh_from_db()
    assert record.reactivated_by == admin_client.user
    [event] = received
    assert event.username == "editor"
    assert "editor@example.com" not in listed(admin_client.get(DEACTIVATED))
    # The account logs in again from one of the attacking IPs.
    assert attack_login_ok("192.0.2.8", "editor")


def attack_login_ok(ip, username):
    return (
        Client()
        .post(
            "/admin/login/",
            {"username": username, "password": PASSWORD},
            REMOTE_ADDR=ip,
        )
        .status_code
        == 302
    )


def test_reactivate_in_bulk(deactivate, admin_client, user):
    WagtailTestUtils.create_user("writer", password=PASSWORD)
    deactivate("editor")
    deactivate("writer")
    ids = list(Deactivation.objects.values_list("pk", flat=True))
    admin_client.post(_reactivate_url(ids))
    assert get_user_model().objects.filter(is_active=False).count() == 0
    assert not Deactivation.objects.open().exists()
    assert "2 accounts reactivated." in listed(admin_client.get(DEACTIVATED))


def test_active_lockouts_say_when_they_end(attack, admin_client, time_machine):
    time_machine.move_to("2025-03-01 12:00:00+00:00", tick=False)
    attack("203.0.113.7")
    time_machine.move_to("2025-03-01 12:05:00+00:00", tick=False)
    page = listed(admin_client.get(ACTIVE))
    assert "(in 15\xa0minutes)" in page


# --- review fixes -------------------------------------------------------------

UNLOCK_BULK = reverse(
    "wagtail_bulk_action", args=["wagtail_loginlimit", "lockout", "unlock"]
)
REACTIVATE_BULK = reverse(
    "wagtail_bulk_action", args=["wagtail_loginlimit", "deactivation", "reactivate"]
)


def _csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_select_all_in_listing_unlocks_only_the_filtered_lockouts(attack, admin_client):
    # Wagtail's "Select all in listing" sends the page's query string + id=all.
    attack("203.0.113.7")
    attack("198.51.100.9")
    query = f"ip=203.0.113.0/24&id=all&next={ACTIVE}"
    page = listed(admin_client.get(f"{UNLOCK_BULK}?{query}"))
    assert "203.0.113.7" in page and "198.51.100.9" not in page
    admin_client.post(f"{UNLOCK_BULK}?{query}")
    assert list(Lockout.objects.active().values_list("ip_address", flat=True)) == [
        "198.51.100.9"
    ]


def test_select_all_in_listing_reactivates_only_the_search_matches(
    deactivate, admin_client, user
):
    WagtailTestUtils.create_user("writer", password=PASSWORD)
    deactivate("editor")
    deactivate("writer")
    admin_client.post(f"{REACTIVATE_BULK}?q=writ&id=all&next={DEACTIVATED}")
    inactive = get_user_model().objects.filter(is_active=False)
    assert list(inactive.values_list("username", flat=True)) == ["editor"]


def test_select_all_with_an_invalid_filter_unlocks_nothing(attack, admin_client):
    attack("203.0.113.7")
    admin_client.post(f"{UNLOCK_BULK}?ip=not-an-ip&id=all&next={ACTIVE}")
    assert Lockout.objects.active().count() == 1


def test_csv_export_defuses_formulas_in_account_names(deactivate, admin_client):
    name = '=HYPERLINK("http://x")'
    WagtailTestUtils.create_user(name, email="x@example.com", password=PASSWORD)
    deactivate(name)
    rows = _csv_rows(admin_client.get(DEACTIVATED, {"export": "csv"}))
    assert rows[0][0] == "Account"
    assert rows[1][0] == "'" + name


def test_csv_export_defuses_formulas_in_who_lifted_a_lockout(attack, admin_client):
    attack("203.0.113.7")
    lifter = WagtailTestUtils.create_user("@SUM(1)", password=PASSWORD)
    Lockout.objects.update(lifted_at=timezone.now(), lifted_by=lifter)
    rows = _csv_rows(admin_client.get(HISTORY, {"export": "csv"}))
    lifted_by = rows[0].index("Lifted by")
    assert rows[1][lifted_by] == "'@SUM(1)"


def test_csv_dates_are_in_the_admins_time_zone(attack, admin_client, time_machine):
    from wagtail.users.models import UserProfile

    time_machine.move_to("2025-01-15 12:00:00+00:00", tick=False)
    attack("203.0.113.7")
    profile = UserProfile.get_for_user(admin_client.user)
    profile.current_time_zone = "Europe/Berlin"
    profile.save()
    rows = _csv_rows(admin_client.get(ACTIVE, {"export": "csv"}))
    started = rows[0].index("Started")
    assert rows[1][started] == "2025-01-15T13:00:00+01:00"


def _lifted_lockouts(count: int) -> None:
    now = timezone.now()
    for n in range(count):
        lifter = WagtailTestUtils.create_user(f"lifter{n}", password=PASSWORD)
        Lockout.objects.create(
            key=f"k{n}",
            scope="ip_address",
            ip_address=f"203.0.113.{n + 1}",
            ip_group=f"203.0.113.{n + 1}",
            started_at=now - timedelta(hours=1),
            ends_at=now - timedelta(minutes=30),
            failure_count=4,
            lifted_at=now - timedelta(minutes=45),
            lifted_by=lifter,
            lift_reason=Lockout.LIFTED_UNLOCK,
        )


def _history_queries(admin_client) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        listed(admin_client.get(HISTORY))
    return len(queries)


def test_lockout_history_queries_do_not_grow_with_rows(admin_client):
    _lifted_lockouts(2)
    few = _history_queries(admin_client)
    Lockout.objects.all().delete()
    get_user_model().objects.filter(username__startswith="lifter").delete()
    _lifted_lockouts(20)
    assert _history_queries(admin_client) == few


def test_row_button_returns_to_the_filtered_listing_not_the_fragment(
    attack, admin_client
):
    from html import unescape
    from urllib.parse import parse_qs, urlsplit

    attack("203.0.113.7")
    results = reverse("wagtail_loginlimit:active_lockouts_results")
    page = listed(
        admin_client.get(results, {"ip": "203.0.113.7", "_w_filter_fragment": "1"})
    )
    start = page.index(UNLOCK_BULK)
    href = unescape(page[start : page.index('"', start)])
    [next_url] = parse_qs(urlsplit(href).query)["next"]
    assert next_url == f"{ACTIVE}?ip=203.0.113.7"


def test_history_shows_a_lockout_lifted_by_a_login(attack, admin_client):
    attack("203.0.113.7")
    Lockout.objects.update(lifted_at=timezone.now(), lift_reason=Lockout.LIFTED_LOGIN)
    page = listed(admin_client.get(HISTORY, {"lifted": Lockout.LIFTED_LOGIN}))
    assert "Lifted by a successful login" in page
    assert "203.0.113.7" in page


@pytest.mark.skipif(
    os.environ.get("LOGINLIMIT_TEST_STORE") == "postgres",
    reason="PostgreSQL filters ranges with inet containment: no range is too wide",
)
def test_too_wide_ipv6_range_asks_to_narrow_it(admin_client):
    from wagtail_loginlimit.filters import MAX_IPV6_CANDIDATES

    now = timezone.now()
    AccessFailureLog.objects.bulk_create(
        AccessFailureLog(
            ip_address=f"2001:db8::{n:x}",
            username="bot",
            user_agent=f"agent {n}",
            attempt_time=now,
            path_info="/",
        )
        for n in range(MAX_IPV6_CANDIDATES + 1)
    )
    page = listed(admin_client.get(FAILED, {"ip": "2001:db8::/32"}))
    assert "too many addresses" in page
    assert "2001:db8::3" not in page
    # A narrower range still works.
    narrow = listed(admin_client.get(FAILED, {"ip": "2001:db8::/126"}))
    assert "2001:db8::3" in narrow and "too many addresses" not in narrow
