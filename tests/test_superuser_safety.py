"""Deactivation cannot take away the site's last administrator: the last
active superuser is kept active by failures, and the admins are told once per
would-be deactivation."""

from __future__ import annotations

import logging

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.checks import run_checks

from tests.conftest import PASSWORD
from tests.helpers import fail_from_many_ips, is_active
from tests.test_settings_panel import page
from wagtail_loginlimit.admin_forms import deactivation_risk, help_texts
from wagtail_loginlimit.models import Deactivation, KeptActive

# Announcements go out when the transaction commits: real transactions, so that
# they go out after each request (see tests/test_deactivation.py).
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def limits(settings):
    settings.WAGTAIL_LOGINLIMIT = {
        "deactivate_after": 1,
        "allowed_retries": 4,
        "lockout_notify": "",  # the kept-active warning comes whatever this says
    }


def kept_lines(caplog) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.getMessage().startswith("loginlimit kept_active")
    ]


def test_failures_never_deactivate_the_last_superuser(
    limits, login, admin_user, client, caplog
):
    client.force_login(admin_user)
    with caplog.at_level(logging.WARNING, logger="wagtail_loginlimit"):
        fail_from_many_ips(login, "admin", 11)  # the 4th, 8th… would deactivate
    assert is_active(admin_user)
    assert not Deactivation.objects.exists()
    # One warning and one email per would-be deactivation: 4 and 8, not 11.
    line = f'loginlimit kept_active account="{admin_user.pk}" user="admin" failures=4'
    assert kept_lines(caplog) == [line, line]
    assert len(mail.outbox) == 2
    assert mail.outbox[0].to == ["admin@example.com"]
    assert "kept active" in mail.outbox[0].subject
    assert "last active superuser" in mail.outbox[0].body
    # Its session stays valid.
    assert client.get("/admin/account/").status_code == 200


def test_the_first_warning_comes_at_the_threshold_and_only_once(
    limits, login, admin_user, caplog
):
    with caplog.at_level(logging.WARNING, logger="wagtail_loginlimit"):
        fail_from_many_ips(login, "admin", 3)
        assert kept_lines(caplog) == [] and mail.outbox == []
        fail_from_many_ips(login, "admin", 3, start=4)
    assert len(kept_lines(caplog)) == 1
    assert len(mail.outbox) == 1
    assert KeptActive.objects.get().failure_count == 4


def test_a_second_superuser_makes_the_first_deactivatable(limits, login, admin_user):
    fail_from_many_ips(login, "admin", 4)
    assert is_active(admin_user)
    get_user_model().objects.create_superuser(
        username="second", email="second@example.com", password=PASSWORD
    )
    fail_from_many_ips(login, "admin", 4, start=5)
    assert not is_active(admin_user)
    assert Deactivation.objects.get().user == admin_user


def test_an_inactive_second_superuser_does_not_count(limits, login, admin_user):
    get_user_model().objects.create_superuser(
        username="second", password=PASSWORD, is_active=False
    )
    fail_from_many_ips(login, "admin", 4)
    assert is_active(admin_user)


def test_ordinary_accounts_are_still_deactivated(limits, login, admin_user, user):
    fail_from_many_ips(login, "editor", 4)
    assert not is_active(user)
    assert not KeptActive.objects.exists()


# --- what the panel and the checks say ------------------------------------------


def values(**changes):
    base = {"allowed_retries": 4, "deactivate_after": 2, "allowed_lockouts": 4}
    return {**base, **changes}


def test_the_panel_says_what_deactivation_risks():
    assert deactivation_risk(values()) == (
        "With these values, 8 failed logins against an account from anywhere "
        "deactivate it: anyone who knows a username can do that. The last active "
        "superuser is kept active and the admins are emailed instead."
    )
    assert "Off with these values" in deactivation_risk(values(deactivate_after=0))
    assert deactivation_risk(values()) in help_texts(values())["deactivate_after"]


def test_the_panel_shows_the_risk_of_the_saved_values(admin_client, admin_limits):
    admin_limits(deactivate_after=3, allowed_retries=5)
    html = page(admin_client)
    assert "With these values, 15 failed logins against an account" in html


def w033():
    return [m for m in run_checks() if m.id == "wagtail_loginlimit.W033"]


def test_w033_warns_without_a_superuser_email(settings):
    settings.WAGTAIL_LOGINLIMIT = {"deactivate_after": 2}
    get_user_model().objects.create_superuser(username="boss", email="", password="x")
    assert len(w033()) == 1
    assert "no active superuser has an email address" in w033()[0].msg


def test_w033_is_silent_with_a_superuser_email_or_deactivation_off(
    settings, admin_user
):
    settings.WAGTAIL_LOGINLIMIT = {"deactivate_after": 2}
    assert w033() == []
    get_user_model().objects.filter(pk=admin_user.pk).update(email="")
    settings.WAGTAIL_LOGINLIMIT = {"deactivate_after": 0}
    assert w033() == []
