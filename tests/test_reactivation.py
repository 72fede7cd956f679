"""Reactivation: by `accounts.reactivate()`, by `manage.py loginlimit_reactivate`
and by Wagtail's own user editor. Each makes the account active, lifts its
lockouts and forgets its counts so that the person can log in at once, closes the
deactivation record, fires `loginlimit_reactivate` and writes the audit log
naming who did it."""

import os
import subprocess
import sys
from datetime import timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.urls import reverse
from wagtail import hooks
from wagtail.models import ModelLogEntry
from wagtail.test.utils import WagtailTestUtils

from tests import services
from tests.conftest import PASSWORD, START, no_account_counters
from tests.helpers import address_in_own_network
from wagtail_loginlimit import accounts
from wagtail_loginlimit.management.commands.loginlimit_reactivate import Command
from wagtail_loginlimit.models import (
    Deactivation,
    FailureCounter,
    Lockout,
)

# Announcements (events, audit log, emails) go out when the transaction commits:
# these tests run in real transactions, so that they go out after each request
# as on a site (a `django_capture_on_commit_callbacks` block would send them all
# at its end, after the assertions that read them between requests).
pytestmark = pytest.mark.django_db(transaction=True)

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def deactivated(settings, login, user, clock):
    """The account "editor", deactivated by 8 failures under the `username`
    lockout method: its second lockout (20 minutes) still runs when it goes."""
    settings.WAGTAIL_LOGINLIMIT = {
        "deactivate_after": 2,
        "allowed_retries": 4,
        "lockout_method": "username",
    }
    for n in range(1, 9):
        login("editor", ip=address_in_own_network(n))
        if n == 4:
            clock.shift(timedelta(minutes=21))
    user.refresh_from_db()
    assert not user.is_active
    assert Lockout.objects.active().filter(username="editor").exists()
    return user


@pytest.fixture
def reactivations():
    """The events fired on the `loginlimit_reactivate` hook."""
    seen = []
    with hooks.register_temporarily("loginlimit_reactivate", seen.append):
        yield seen


def can_log_in(login, client) -> bool:
    response = login("editor", password=PASSWORD, ip="198.51.100.8")
    client.logout()
    return response.status_code == 302


def audit_entry(user):
    return ModelLogEntry.objects.get(
        action="wagtail_loginlimit.reactivate", object_id=str(user.pk)
    )


def assert_cleared(user):
    """The plugin no longer holds anything against the account."""
    user.refresh_from_db()
    assert user.is_active
    assert not Deactivation.objects.open().exists()
    assert not Lockout.objects.active().filter(username="editor").exists()
    assert not FailureCounter.objects.filter(username="editor").exists()


# --- the function ---


def test_reactivate(deactivated, admin_user, login, client, reactivations):
    assert not can_log_in(login, client)

    assert accounts.reactivate(deactivated, by=admin_user) is True

    assert_cleared(deactivated)
    assert can_log_in(login, client)
    record = Deactivation.objects.get()
    assert record.reactivated_by == admin_user
    assert record.reactivate_reason == Deactivation.REACTIVATED_ADMIN
    assert record.reactivated_at == START + timedelta(minutes=21)
    lifted = Lockout.objects.get(number=2)
    assert lifted.lift_reason == Lockout.LIFTED_REACTIVATE
    assert lifted.lifted_by == admin_user

    [event] = reactivations
    assert (event.kind, event.user, event.username) == (
        "reactivate",
        deactivated,
        "editor",
    )
    assert event.reason == "admin"
    assert event.lockout_count == 2
    entry = audit_entry(deactivated)
    assert entry.user == admin_user
    assert str(entry.message) == "Account reactivated"


def test_reactivate_an_active_account_does_nothing(user, reactivations):
    assert accounts.reactivate(user) is False

    assert reactivations == []
    assert not ModelLogEntry.objects.filter(action="wagtail_loginlimit.reactivate")


def test_reactivated_accounts_leave_the_list(deactivated, admin_user, db):
    other = get_user_model().objects.create_user(username="other", password=PASSWORD)
    Deactivation.objects.create(
        user=other, deactivated_at=START, lockout_count=2, failure_count=8
    )
    assert {d.user for d in accounts.deactivated()} == {deactivated, other}

    accounts.reactivate(deactivated, by=admin_user)

    assert [d.user for d in accounts.deactivated()] == [other]


def test_a_reactivated_account_is_counted_afresh(deactivated, login, time_machine):
    accounts.reactivate(deactivated)
    time_machine.shift(timedelta(minutes=1))

    for n in range(1, 8):  # the 8 failures before the reactivation no longer count
        login("editor", ip=address_in_own_network(n))
        if n == 4:
            time_machine.shift(timedelta(minutes=21))  # wait out the lockout
    deactivated.refresh_from_db()
    assert deactivated.is_active
    assert no_account_counters()

    login("editor", ip="192.0.2.8")
    deactivated.refresh_from_db()
    assert not deactivated.is_active


# --- the command ---


def test_command_reactivates(deactivated, login, client, reactivations):
    out = StringIO()

    call_command("loginlimit_reactivate", "editor", stdout=out)

    assert "Reactivated the account “editor”." in out.getvalue()
    assert_cleared(deactivated)
    assert can_log_in(login, client)
    record = Deactivation.objects.get()
    assert record.reactivate_reason == Deactivation.REACTIVATED_COMMAND
    assert record.reactivated_by is None
    [event] = reactivations
    assert event.reason == "command"
    entry = audit_entry(deactivated)
    assert entry.user is None
    assert str(entry.message) == "Account reactivated from the command line"


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("ghost", "There is no account with the username “ghost”."),
        ("EDITOR", "There is no account with the username “EDITOR”."),
        ("admin", "The account “admin” is already active."),
        ("bad\x1b[31m", "There is no account with the username “bad\\x1b[31m”."),
    ],
)
def test_command_errors(deactivated, admin_user, capsys, username, message):
    with pytest.raises(SystemExit) as exit_info:
        Command().run_from_argv(["manage.py", "loginlimit_reactivate", username])

    assert exit_info.value.code != 0
    assert capsys.readouterr().err.strip() == f"CommandError: {message}"
    deactivated.refresh_from_db()
    assert not deactivated.is_active


def test_command_refuses_an_active_account(user):
    with pytest.raises(CommandError, match="already active"):
        call_command("loginlimit_reactivate", "editor")


def test_reactivate_leaves_an_account_an_admin_disabled_alone(user, reactivations):
    user.is_active = False
    user.save()

    assert accounts.reactivate(user) is False

    user.refresh_from_db()
    assert not user.is_active
    assert reactivations == []
    assert accounts.reactivate(user, only_deactivated=False) is True
    user.refresh_from_db()
    assert user.is_active


def test_command_refuses_an_account_login_limits_did_not_deactivate(user):
    user.is_active = False
    user.save()

    with pytest.raises(CommandError) as error:
        call_command("loginlimit_reactivate", "editor")

    assert str(error.value) == (
        "“editor” was not deactivated by login limits; use --force to make it "
        "active anyway."
    )
    user.refresh_from_db()
    assert not user.is_active


def test_command_force_makes_any_inactive_account_active(user, reactivations):
    user.is_active = False
    user.save()

    call_command("loginlimit_reactivate", "editor", "--force", stdout=StringIO())

    user.refresh_from_db()
    assert user.is_active
    [event] = reactivations
    assert event.reason == "command"


def test_reactivation_is_announced_after_the_commit(deactivated):
    """Hooks see committed state: inside a bulk action's transaction nothing is
    announced yet, and a rolled-back reactivation announces nothing."""
    seen = []

    def hook(event):
        # Read through the database, as another process would.
        seen.append(get_user_model().objects.get(pk=event.user.pk).is_active)

    with hooks.register_temporarily("loginlimit_reactivate", hook):
        with transaction.atomic():
            accounts.reactivate(deactivated)
            assert seen == []
        assert seen == [True]

        deactivated.is_active = False
        deactivated.save()
        Deactivation.objects.update(reactivated_at=None)
        with pytest.raises(RuntimeError), transaction.atomic():
            accounts.reactivate(deactivated)
            raise RuntimeError("the bulk action failed")
        assert seen == [True]


def test_a_redis_outage_does_not_break_the_user_editor(
    settings, deactivated, admin_user, client, caplog
):
    """A cache store where nothing listens (a real Redis client, a closed port):
    the account is made active, the lockouts end by themselves."""
    settings.CACHES = {
        **settings.CACHES,
        "down": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{services.free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        },
    }
    settings.WAGTAIL_LOGINLIMIT = {"store": "cache", "cache_alias": "down"}

    edit_user(client, admin_user, deactivated, is_active="on")  # 302, not 500

    deactivated.refresh_from_db()
    assert deactivated.is_active
    assert "could not be lifted" in caplog.text


def test_command_help():
    result = subprocess.run(
        [sys.executable, "-m", "django", "loginlimit_reactivate", "--help"],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.settings",
            "PYTHONPATH": str(REPO),
        },
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert "usage:" in result.stdout
    assert "username" in result.stdout
    assert "Reactivate an account" in result.stdout


# --- Wagtail's user editor ---


def edit_form_data(user, **changes) -> dict:
    data = {
        "username": user.username,
        "email": user.email or "editor@example.com",
        "first_name": "Ed",
        "last_name": "Itor",
        "password1": "",
        "password2": "",
        "is_active": "on" if user.is_active else "",
        "is_superuser": "",
        **changes,
    }
    return {key: value for key, value in data.items() if value != ""}


def edit_user(client, admin_user, user, **changes):
    client.force_login(admin_user)
    url = reverse("wagtailusers_users:edit", args=[user.pk])
    # The form, as Wagtail renders it, has the "active" box to tick.
    soup = WagtailTestUtils.get_soup(client.get(url).content)
    assert soup.select_one('input[name="is_active"]') is not None
    response = client.post(url, edit_form_data(user, **changes))
    assert response.status_code == 302, response.content.decode()[:2000]
    client.logout()


def test_making_the_user_active_in_wagtail_reactivates(
    deactivated, admin_user, login, client, reactivations
):
    edit_user(client, admin_user, deactivated, is_active="on")

    assert_cleared(deactivated)
    assert can_log_in(login, client)
    record = Deactivation.objects.get()
    assert record.reactivated_by == admin_user
    assert record.reactivate_reason == Deactivation.REACTIVATED_USER_EDIT
    [event] = reactivations
    assert (event.user, event.reason) == (deactivated, "user_edit")
    assert audit_entry(deactivated).user == admin_user


def test_other_edits_of_a_deactivated_user_change_nothing(
    deactivated, admin_user, client, reactivations
):
    edit_user(client, admin_user, deactivated, first_name="Edwina")

    deactivated.refresh_from_db()
    assert not deactivated.is_active
    assert Deactivation.objects.open().count() == 1
    assert reactivations == []


def test_an_account_the_plugin_did_not_deactivate_gets_its_counts_cleared(
    settings, user, admin_user, login, client, reactivations
):
    settings.WAGTAIL_LOGINLIMIT = {"allowed_retries": 4, "lockout_method": "username"}
    for _ in range(4):
        login("editor")
    user.is_active = False
    user.save()
    assert Lockout.objects.active().exists()

    edit_user(client, admin_user, user, is_active="on")

    assert not Lockout.objects.active().exists()
    assert can_log_in(login, client)
    assert reactivations == []  # the plugin had not deactivated it


def test_reactivate_does_not_announce_twice(deactivated, admin_user, reactivations):
    accounts.reactivate(deactivated, by=admin_user)

    assert len(reactivations) == 1
    assert (
        ModelLogEntry.objects.filter(action="wagtail_loginlimit.reactivate").count()
        == 1
    )
