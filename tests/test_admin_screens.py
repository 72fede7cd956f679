"""What issue 12 found on the admin screens, each as an admin sees it: the
wording, the links between screens, the confirmations, the exports and the
settings panel's explanations. Real failed logins, SQLite, Wagtail's admin."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from html import unescape

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from wagtail.models import ModelLogEntry
from wagtail.test.utils import WagtailTestUtils

from tests.conftest import PASSWORD
from wagtail_loginlimit import audit_log, defaults
from wagtail_loginlimit.models import Lockout

ACTIVE = reverse("wagtail_loginlimit:active_lockouts")
HISTORY = reverse("wagtail_loginlimit:lockout_history")
FAILED = reverse("wagtail_loginlimit:failed_logins")
DEACTIVATED = reverse("wagtail_loginlimit:deactivated_accounts")
SETTINGS = reverse(
    "wagtailsettings:edit", args=["wagtail_loginlimit", "loginlimitsettings"]
)
UNLOCK = reverse(
    "wagtail_bulk_action", args=["wagtail_loginlimit", "lockout", "unlock"]
)


@pytest.fixture
def attack(db):
    def run(ip, username="editor", times=4):
        attacker = Client()
        for _ in range(times):
            attacker.post(
                "/admin/login/",
                {"username": username, "password": "wrong"},
                REMOTE_ADDR=ip,
            )

    return run


@pytest.fixture
def admin_client(db):
    admin = WagtailTestUtils.create_superuser("boss", password=PASSWORD)
    client = Client()
    client.force_login(admin)
    return client


def text(response) -> str:
    """The page as words: tags dropped, white space collapsed."""
    assert response.status_code == 200, response.content[:300]
    html = re.sub(
        r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S
    )
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def rows(response) -> list[str]:
    """Each table row of the page, as words."""
    html = response.content.decode()
    html = html[html.index('id="listing-results"') :]
    body = html[html.index("<tbody>") : html.index("</tbody>")]
    return [
        " ".join(unescape(re.sub(r"<[^>]+>", " ", row)).split())
        for row in re.findall(r"<tr\b.*?</tr>", body, re.S)
    ]


def csv_rows(response) -> list[list[str]]:
    data = b"".join(response.streaming_content).decode()
    return list(csv.reader(io.StringIO(data)))


# --- item 8: wording ------------------------------------------------------------


def test_failed_logins_are_counted_as_failed_logins(attack, admin_client):
    attack("203.0.113.7", times=3)
    page = text(admin_client.get(FAILED))
    assert "3 failed logins" in page
    assert "access failure" not in page


def test_a_thousand_lockouts_are_counted_with_a_separator(admin_client):
    now = timezone.now()
    Lockout.objects.bulk_create(
        Lockout(
            key=f"k{n}",
            scope="ip",
            ip_address=f"10.0.{n // 256}.{n % 256}",
            ip_group=f"10.0.{n // 256}.{n % 256}",
            started_at=now,
            ends_at=now + timedelta(minutes=20),
            failure_count=4,
        )
        for n in range(1200)
    )
    assert "1,200 lockouts" in text(admin_client.get(ACTIVE))

    # The confirmation names a few and counts the rest (item 9).
    confirm = admin_client.get(UNLOCK, {"id": "all", "next": ACTIVE})
    page = text(confirm)
    assert "Unlock 1,200 lockouts" in page
    assert "Unlock these 1,200 clients?" in page
    assert "and 1,180 more" in page
    assert page.count("IP address, until") == 20
    assert len(confirm.content) < 100_000

    done = admin_client.post(f"{UNLOCK}?id=all&next={ACTIVE}", follow=True)
    assert "1,200 lockouts lifted." in text(done)


def test_confirmation_titles_read_as_one_phrase(attack, admin_client):
    attack("203.0.113.7")
    pk = Lockout.objects.get().pk
    page = text(admin_client.get(UNLOCK, {"id": pk, "next": ACTIVE}))
    assert "Unlock 1 lockout" in page
    assert "Unlock Lockouts" not in page
    # Breadcrumbs: Home › Login security › Active lockouts › this page.
    assert re.search(
        r"Home .*Login security .*Active lockouts .*Unlock 1 lockout", page
    )


def test_csv_says_yes_or_no_in_the_admins_language_to_the_second(attack, admin_client):
    attack("203.0.113.7", times=4)
    table = csv_rows(admin_client.get(FAILED, {"export": "csv"}))
    heading = table[0].index("Caused a lockout")
    assert sorted(row[heading] for row in table[1:]) == ["No", "No", "No", "Yes"]
    time = table[1][0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", time), time

    history = csv_rows(admin_client.get(HISTORY, {"export": "csv"}))
    assert history[1][history[0].index("Long lockout")] == "No"

    response = admin_client.get(FAILED, {"export": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = list(sheet.iter_rows(values_only=True))
    assert sorted(row[5] for row in values[1:]) == ["No", "No", "No", "Yes"]
    assert all(row[0].microsecond == 0 for row in values[1:])


def test_csv_yes_no_follow_the_admins_language(attack, admin_client):
    from wagtail.users.models import UserProfile

    attack("203.0.113.7", times=4)
    profile = UserProfile.get_for_user(
        WagtailTestUtils.create_superuser("chef", password=PASSWORD)
    )
    profile.preferred_language = "de"
    profile.save()
    client = Client()
    client.force_login(profile.user)
    table = csv_rows(client.get(FAILED, {"export": "csv"}))
    assert sorted({row[5] for row in table[1:]}) == ["Ja", "Nein"]


# --- item 7: links between screens ------------------------------------------------


def test_breadcrumbs_lead_through_login_security(admin_client):
    html = admin_client.get(HISTORY).content.decode()
    crumbs = html[html.index("data-w-breadcrumbs") :][:12000]
    assert 'href="/admin/login-security/"' in crumbs
    assert "Login security" in crumbs


def test_a_lockout_leads_to_that_clients_failed_logins(attack, admin_client):
    attack("203.0.113.7", username="alice")
    attack("198.51.100.9", username="bob")
    html = admin_client.get(ACTIVE).content.decode()
    link = re.search(r'href="([^"]*failed-logins/\?ip=203\.0\.113\.7)"', html)
    assert link, "no link to the client's failed logins"
    page = text(admin_client.get(unescape(link.group(1))))
    assert "4 failed logins" in page
    assert "alice" in page and "bob" not in page


def test_a_lockout_by_username_leads_to_that_usernames_failed_logins(
    attack, admin_client, settings
):
    settings.WAGTAIL_LOGINLIMIT = {"lockout_method": "username"}
    for n in range(4):
        attack(f"192.0.2.{n + 1}", username="carol", times=1)
    attack("192.0.2.9", username="dave", times=1)
    html = admin_client.get(ACTIVE).content.decode()
    link = re.search(r'href="([^"]*failed-logins/\?username=carol)"', html)
    assert link
    page = text(admin_client.get(unescape(link.group(1))))
    assert "4 failed logins" in page and "dave" not in page


def test_locked_out_does_not_repeat_the_ip_column(attack, admin_client):
    attack("203.0.113.7")
    (row,) = rows(admin_client.get(ACTIVE))
    assert row.count("203.0.113.7") == 1


def test_an_ipv6_lockout_shows_its_network_and_the_address(attack, admin_client):
    attack("2001:db8:1:2::5")
    (row,) = rows(admin_client.get(ACTIVE))
    assert "2001:db8:1:2::/64" in row and "2001:db8:1:2::5 " in row + " "


def test_long_is_a_status_tag(attack, admin_client):
    attack("203.0.113.7")
    Lockout.objects.update(is_long=True)
    html = admin_client.get(HISTORY).content.decode()
    assert re.search(r'class="w-status w-status--primary"[^>]*>\s*Long', html)


def test_site_history_leads_to_the_lockout(attack, admin_client):
    attack("203.0.113.7")
    attack("198.51.100.9")
    lockout = Lockout.objects.get(ip_address="203.0.113.7")
    assert ModelLogEntry.objects.filter(
        action=audit_log.LOCKOUT, object_id=str(lockout.pk)
    ).exists()
    html = admin_client.get(reverse("wagtailadmin_reports:site_history")).content
    url = f"{HISTORY}?lockout={lockout.pk}"
    assert f'href="{url}"' in html.decode()
    page = admin_client.get(url)
    assert rows(page) and all("198.51.100.9" not in row for row in rows(page))
    assert any("203.0.113.7" in row for row in rows(page))


def test_empty_deactivated_accounts_says_when_deactivation_is_off(
    admin_client, settings
):
    page = text(admin_client.get(DEACTIVATED))
    assert "Deactivation is off" in page
    settings.WAGTAIL_LOGINLIMIT = {"deactivate_after": 3}
    assert "Deactivation is off" not in text(admin_client.get(DEACTIVATED))


# --- item 1: tables scroll in their own container ----------------------------------


def test_tables_scroll_in_their_own_container_and_ips_do_not_wrap(attack, admin_client):
    attack("203.0.113.7")
    for url in (ACTIVE, HISTORY, FAILED):
        html = admin_client.get(url).content.decode()
        scroller = html.index('class="loginlimit-table-scroll w-overflow-x-auto"')
        assert "<table" in html[scroller : scroller + 600], url
    # The address, and the title cell with its "Unlock" button, keep to one line.
    html = admin_client.get(FAILED).content.decode()
    assert re.search(r'<td class="w-whitespace-nowrap">\s*203\.0\.113\.7', html)
    html = admin_client.get(ACTIVE).content.decode()
    assert '<td class="w-whitespace-nowrap title">' in html


# --- items 2 and 6, the budget: the settings panel ----------------------------------


def test_help_texts_use_the_current_values(admin_client, settings):
    page = text(admin_client.get(SETTINGS, follow=True))
    assert (
        "lockouts 1 to 3 are normal ones and lockout 4, after 16 failed logins, is a long one"
        in page
    )
    assert "With the current 4 allowed retries, 2 means after 8 failed logins." in page
    settings.WAGTAIL_LOGINLIMIT = {"allowed_retries": 6, "allowed_lockouts": 1}
    page = text(admin_client.get(SETTINGS, follow=True))
    assert "Now every lockout is a long one, after 6 failed logins." in page
    assert "With the current 6 allowed retries, 2 means after 12 failed logins." in page
    assert "4 allowed retries" not in page


def test_the_panel_says_what_an_attacker_can_try(admin_client, settings):
    page = text(admin_client.get(SETTINGS, follow=True))
    assert (
        "With these settings one IP address can try at most 31 passwords a day. "
        "One account can be tried that often from every IP address" in page
    )
    settings.WAGTAIL_LOGINLIMIT = {
        "lockout_method": "ip_or_username",
        "deactivate_after": 2,
    }
    page = text(admin_client.get(SETTINGS, follow=True))
    assert (
        "With these settings one IP address can try at most 31 passwords a day. "
        "One account can be tried at most 8 times from unknown devices before it "
        "is deactivated." in page
    )


# --- every limit fixed in code ------------------------------------------------------

# Every panel key fixed in code (those not named here at their default).
ALL_FIXED = {
    **defaults.PANEL,
    "allowed_retries": 5,
    "lockout_duration": 1800,
    "allowed_lockouts": 3,
    "whitelist": ["10.0.0.0/8"],
}
FIXED_PAGE = reverse("wagtail_loginlimit:fixed_limits")


def settings_menu_url(client) -> str:
    html = client.get(reverse("wagtailadmin_home")).content.decode()
    match = re.search(r'"name": "login-limits".*?"url": "([^"]+)"', html)
    assert match, "no Login limits item in the Settings menu"
    return match.group(1)


def test_when_code_fixes_every_limit_the_menu_opens_one_read_only_page(
    admin_client, settings
):
    assert settings_menu_url(admin_client) == SETTINGS
    settings.WAGTAIL_LOGINLIMIT = ALL_FIXED
    assert settings_menu_url(admin_client) == FIXED_PAGE
    response = admin_client.get(FIXED_PAGE)
    page = text(response)
    assert "Every login limit is set by WAGTAIL_LOGINLIMIT" in page
    assert "Allowed retries 5" in page
    assert "Lockout duration 30 minutes" in page
    assert "Never lock out 10.0.0.0/8" in page
    assert "at most" in page  # the attacker's budget
    assert "<input" not in response.content.decode().split('id="main"')[1]


def test_with_one_limit_left_to_the_admin_the_menu_opens_the_form(
    admin_client, settings
):
    settings.WAGTAIL_LOGINLIMIT = {
        k: v for k, v in ALL_FIXED.items() if k != "notify_email_after"
    }
    assert settings_menu_url(admin_client) == SETTINGS


def test_the_read_only_page_needs_the_settings_permission(db, settings):
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    settings.WAGTAIL_LOGINLIMIT = ALL_FIXED
    user = get_user_model().objects.create_user("ed", password=PASSWORD)
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    client = Client()
    client.force_login(user)
    assert client.get(FIXED_PAGE).status_code in (302, 403)
