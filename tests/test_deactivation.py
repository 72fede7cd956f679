"""Account deactivation: an existing account is set inactive after
`deactivate_after × allowed_retries` failures against it, from any IPs, with no
successful login in between and none older than the valid window."""

import logging
import re
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from wagtail import hooks
from wagtail.models import ModelLogEntry

from tests.conftest import PASSWORD, no_account_counters
from tests.helpers import address_in_own_network, fail_from_many_ips, is_active
from wagtail_loginlimit import unlocking
from wagtail_loginlimit.models import (
    Deactivation,
    Lockout,
)

# Announcements (events, audit log, emails) go out when the transaction commits:
# these tests run in real transactions, so that they go out after each request
# as on a site (a `django_capture_on_commit_callbacks` block would send them all
# at its end, after the assertions that read them between requests).
pytestmark = pytest.mark.django_db(transaction=True)

VALID = timedelta(seconds=43200)  # the default valid window


@pytest.fixture
def limits(settings):
    """Set `WAGTAIL_LOGINLIMIT`, on top of deactivate_after=2, allowed_retries=4."""

    def apply(**values):
        settings.WAGTAIL_LOGINLIMIT = {
            "deactivate_after": 2,
            "allowed_retries": 4,
            "lockout_method": "ip",
            **values,
        }

    apply()
    return apply


@pytest.fixture
def captured():
    """The events fired on the `loginlimit_deactivate` hook."""
    seen = []
    with hooks.register_temporarily("loginlimit_deactivate", seen.append):
        yield seen


def test_failures_from_many_ips_deactivate_the_account(limits, login, user):
    fail_from_many_ips(login, "editor", 7)
    assert is_active(user)
    assert not Deactivation.objects.exists()

    fail_from_many_ips(login, "editor", 1, start=8)

    assert not is_active(user)
    record = Deactivation.objects.get()
    assert (record.user, record.lockout_count, record.failure_count) == (user, 2, 8)
    assert record.ip_address == address_in_own_network(8)
    assert record.reactivated_at is None
    # No IP was ever locked out: the count is the account's own.
    assert not Lockout.objects.exists()


def test_the_right_password_no_longer_logs_in(limits, login, user, client):
    fail_from_many_ips(login, "editor", 8)

    response = login("editor", password=PASSWORD, ip="192.0.2.50")

    assert response.status_code == 200  # the login page again, no redirect
    assert "_auth_user_id" not in client.session


def _page(response, username: str) -> str:
    """The login page with what legitimately differs between two requests (the
    CSRF token, the username typed back into the form) blanked out."""
    html = response.content.decode()
    html = re.sub(r"\b[A-Za-z0-9]{64}\b", "CSRF-TOKEN", html)
    return html.replace(username, "USERNAME")


@pytest.mark.parametrize("password", ["wrong", PASSWORD])
def test_a_deactivated_account_looks_like_an_unknown_one(limits, login, user, password):
    get_user_model().objects.create_user(username="other", password=PASSWORD)
    fail_from_many_ips(login, "editor", 8)
    assert not is_active(user)

    deactivated = login("editor", password=password, ip="192.0.2.10")
    unknown = login("ghost", password=password, ip="192.0.2.11")

    assert deactivated.status_code == unknown.status_code == 200
    assert _page(deactivated, "editor") == _page(unknown, "ghost")
    assert "3 attempts remaining" in deactivated.content.decode()


def test_a_successful_login_in_between_starts_the_count_afresh(
    limits, login, user, client
):
    fail_from_many_ips(login, "editor", 7)
    assert login("editor", password=PASSWORD, ip="192.0.2.1").status_code == 302
    client.logout()

    fail_from_many_ips(login, "editor", 7, start=20)
    assert is_active(user)
    fail_from_many_ips(login, "editor", 1, start=40)
    assert not is_active(user)


def test_failures_older_than_the_valid_window_are_forgotten(limits, login, user, clock):
    fail_from_many_ips(login, "editor", 7)
    clock.shift(VALID)

    fail_from_many_ips(login, "editor", 7, start=20)
    assert is_active(user)

    fail_from_many_ips(login, "editor", 1, start=40)
    assert not is_active(user)


def test_failures_within_the_valid_window_add_up(limits, login, user, clock):
    fail_from_many_ips(login, "editor", 7)
    clock.shift(VALID - timedelta(seconds=1))

    fail_from_many_ips(login, "editor", 1, start=20)

    assert not is_active(user)


@pytest.mark.parametrize(
    "method", ["ip", "username", "ip_and_username", "ip_or_username"]
)
def test_every_lockout_method_counts_per_account(limits, login, user, clock, method):
    limits(lockout_method=method)
    for n in range(1, 9):
        assert is_active(user)
        login("editor", ip=address_in_own_network(n))
        # Wait out any lockout, so that every try reaches the password check.
        clock.shift(timedelta(minutes=21))

    assert not is_active(user)
    assert Deactivation.objects.get().failure_count == 8


def test_refused_tries_do_not_count(limits, login, user):
    limits(lockout_method="username")
    for _ in range(20):
        login("editor")  # the 4th locks "editor" out; the rest are refused

    assert is_active(user)


@pytest.mark.parametrize("entry", ["editor", "EDITOR"])
def test_a_whitelisted_username_is_never_deactivated(limits, login, user, entry):
    limits(whitelist=[entry])

    fail_from_many_ips(login, "editor", 30)

    assert is_active(user)
    assert not Deactivation.objects.exists()


def test_unknown_usernames_are_not_counted(limits, login, user):
    fail_from_many_ips(login, "ghost", 20)

    assert not Deactivation.objects.exists()
    assert no_account_counters()


def test_an_account_is_deactivated_once(limits, login, user):
    fail_from_many_ips(login, "editor", 8)
    fail_from_many_ips(login, "editor", 16, start=100)

    assert Deactivation.objects.count() == 1


def test_accounts_are_counted_apart_even_if_their_names_differ_only_in_case(
    limits, login, user
):
    twin = get_user_model().objects.create_user(username="Editor", password=PASSWORD)
    fail_from_many_ips(login, "editor", 4)
    fail_from_many_ips(login, "Editor", 4, start=10)

    assert is_active(user)
    assert is_active(twin)


def test_off_by_default(settings, login, user):
    settings.WAGTAIL_LOGINLIMIT = {"lockout_method": "ip"}

    fail_from_many_ips(login, "editor", 40)

    assert is_active(user)
    assert no_account_counters()


def _user_reads(login, username) -> int:
    table = get_user_model()._meta.db_table
    with CaptureQueriesContext(connection) as queries:
        login(username, ip="192.0.2.99")
    return sum(
        1
        for query in queries.captured_queries
        if query["sql"].startswith("SELECT") and f'FROM "{table}"' in query["sql"]
    )


def test_when_off_a_failed_login_reads_the_user_table_only_for_django(
    settings, login, user
):
    settings.WAGTAIL_LOGINLIMIT = {"deactivate_after": 0}
    assert _user_reads(login, "editor") == 1  # ModelBackend's own lookup

    settings.WAGTAIL_LOGINLIMIT = {"deactivate_after": 2}
    # and the account's: looked up, then re-read under a row lock to count it
    assert _user_reads(login, "editor") == 3


def test_an_open_session_of_a_deactivated_account_ends(limits, login, user, client):
    assert login("editor", password=PASSWORD, ip="192.0.2.1").status_code == 302
    assert client.get("/admin/").wsgi_request.user == user

    # From strangers' browsers: the signed-in one is a known device, whose
    # failures never deactivate (test_known_devices.py).
    stranger = Client()
    for i in range(8):
        stranger.post(
            "/admin/login/",
            {"username": "editor", "password": "wrong"},
            REMOTE_ADDR=address_in_own_network(i + 1),
        )

    assert client.get("/admin/").wsgi_request.user.is_anonymous


# --- what a deactivation announces ---


def test_deactivation_fires_the_event_with_the_user(limits, login, user, captured):
    fail_from_many_ips(login, "editor", 8)

    [event] = captured
    assert event.kind == "deactivate"
    assert event.user == user
    assert event.username == "editor"
    assert (event.failure_count, event.lockout_count) == (8, 2)
    assert event.ip_address == address_in_own_network(8)
    assert event.request is not None


def test_deactivation_is_in_the_audit_log(limits, login, user):
    fail_from_many_ips(login, "editor", 8)

    entry = ModelLogEntry.objects.get(action="wagtail_loginlimit.deactivate")
    assert entry.object_id == str(user.pk)
    assert entry.user is None  # nobody did it: the failed logins did
    assert entry.data["lockout_count"] == 2
    assert "2 lockouts" in str(entry.message)


def test_deactivation_writes_a_log_warning(limits, login, user, caplog):
    with caplog.at_level(logging.WARNING, logger="wagtail_loginlimit.security"):
        fail_from_many_ips(login, "editor", 8)

    lines = [r.getMessage() for r in caplog.records if "deactivate" in r.getMessage()]
    assert lines == [f'loginlimit deactivate account="{user.pk}" user="editor"']
    assert all(
        r.levelno == logging.WARNING
        for r in caplog.records
        if "deactivate" in r.getMessage()
    )


def test_no_log_warning_when_notifications_are_off(limits, login, user, caplog):
    limits(lockout_notify="")
    with caplog.at_level(logging.INFO, logger="wagtail_loginlimit"):
        fail_from_many_ips(login, "editor", 8)

    assert not is_active(user)
    assert not [r for r in caplog.records if "deactivate" in r.getMessage()]


def test_a_hook_that_raises_does_not_stop_the_deactivation(limits, login, user):
    def broken(event):
        raise RuntimeError("listener bug")

    with hooks.register_temporarily("loginlimit_deactivate", broken):
        fail_from_many_ips(login, "editor", 8)

    assert not is_active(user)


def test_deactivation_emails_the_admins(limits, login, user, admin_user, mailoutbox):
    limits(lockout_notify="log,email", notify_email_after=10)

    fail_from_many_ips(login, "editor", 8)

    [message] = mailoutbox  # no lockout happened; the deactivation is mailed
    assert message.to == ["admin@example.com"]
    assert "editor" in message.subject
    assert "Failed logins: 8" in message.body
    assert "/admin/login-security/" in message.body


def test_an_unlock_does_not_reset_the_deactivation_count(limits, login, user):
    """Only a successful login, a reactivation or time resets it (PRODUCT.md):
    an unlock lifts lockouts, not the failures made against the account."""
    fail_from_many_ips(login, "editor", 7)
    unlocking.unlock(username="EDITOR")

    fail_from_many_ips(login, "editor", 1, start=20)

    assert not is_active(user)


def test_failures_spread_wider_than_the_valid_window_never_deactivate(
    limits, login, user, clock
):
    """A real window: 8 failures 11 hours apart (valid window 12 hours) never
    make 8 within one window, however long it goes on."""
    for n in range(1, 17):
        fail_from_many_ips(login, "editor", 1, start=n)
        clock.shift(VALID - timedelta(hours=1))

    assert is_active(user)
    assert not Deactivation.objects.exists()


def test_failures_within_one_valid_window_deactivate(limits, login, user, clock):
    for n in range(1, 9):
        fail_from_many_ips(login, "editor", 1, start=n)
        clock.shift(timedelta(hours=1, minutes=30))  # 8 in 10.5 hours

    assert not is_active(user)


def test_nothing_is_stored_per_account(limits, login, user):
    fail_from_many_ips(login, "editor", 7)

    assert no_account_counters()


def test_failures_from_a_whitelisted_ip_do_not_count(limits, login, user):
    limits(whitelist=["203.0.113.0/24"])
    for n in range(1, 21):
        login("editor", ip=f"203.0.113.{n}")
    fail_from_many_ips(login, "editor", 7)
    assert is_active(user)

    fail_from_many_ips(login, "editor", 1, start=50)
    assert not is_active(user)
