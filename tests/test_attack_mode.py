"""Attack mode (`attack_threshold`): failed logins across the site within 10
minutes switch it on; every unknown device must then pass the challenge until
the rate stays below the threshold for 10 minutes. One email to the admins
when it starts, one when it ends, the `loginlimit_attack` hook and signal, a
banner on the dashboard and the reports, no line for fail2ban. Through real
requests, Django's locmem email backend and a moved clock."""

import logging
from datetime import timedelta
from functools import partial

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from wagtail import hooks

from tests import helpers
from tests.conftest import PASSWORD
from tests.helpers import address_in_own_network
from tests.test_challenge import challenge_on, solved
from wagtail_loginlimit import attack, events
from wagtail_loginlimit.conf import get_config
from wagtail_loginlimit.models import AttackPeriod

FIELD = "loginlimit_challenge"
THRESHOLD = 10


@pytest.fixture(autouse=True)
def _threshold(settings):
    settings.WAGTAIL_LOGINLIMIT = {"attack_threshold": THRESHOLD, "challenge_cost": 10}


@pytest.fixture(autouse=True)
def _commit_callbacks_run(monkeypatch):
    """The emails and events go out once the change commits
    (`transaction.on_commit`); a test's own transaction never commits, so
    they run at once here, as they would after a real request's commit."""
    from django.db import transaction

    monkeypatch.setattr(
        transaction, "on_commit", lambda func, using=None, robust=False: func()
    )


@pytest.fixture
def admins(db):
    return get_user_model().objects.create_superuser(
        username="boss", email="boss@example.com", password=PASSWORD
    )


@pytest.fixture
def heard():
    received = []
    with hooks.register_temporarily("loginlimit_attack", received.append):
        yield received


post = partial(helpers.post, ip="192.0.2.1")


def stuff(failures=THRESHOLD, start=0):
    """Credential stuffing: a new address and a new name each try."""
    for n in range(start, start + failures):
        post(Client(), f"user{n}", ip=address_in_own_network(n))


def test_below_the_threshold_nothing_changes(admins, heard, clock):
    stuff(THRESHOLD - 1)
    assert not AttackPeriod.objects.exists()
    assert heard == []
    assert challenge_on(Client().get("/admin/login/", REMOTE_ADDR="192.0.2.9")) is None


def test_reaching_it_starts_attack_mode_once_with_one_email_and_one_event(
    admins, heard, clock
):
    stuff(THRESHOLD + 5)
    assert AttackPeriod.objects.filter(is_open=True).count() == 1
    [email] = mail.outbox
    assert email.to == ["boss@example.com"]
    assert "Attack mode started" in email.subject
    assert f"{THRESHOLD} failed logins within 10 minutes" in email.body
    assert email.alternatives and "Attack mode started" in email.alternatives[0][0]
    [event] = heard
    assert (event.kind, event.reason, event.failure_count) == (
        "attack",
        "started",
        THRESHOLD,
    )


def test_the_signal_fires_too(admins, clock):
    received = []

    def receiver(sender, event, **kwargs):
        received.append(event.reason)

    events.loginlimit_attack.connect(receiver)
    try:
        stuff()
    finally:
        events.loginlimit_attack.disconnect(receiver)
    assert received == ["started"]


def test_in_attack_mode_every_unknown_device_must_pass_the_challenge(
    admins, clock, hasher_calls
):
    stuff()
    stranger = Client()
    page = stranger.get("/admin/login/", REMOTE_ADDR="192.0.2.30")
    assert challenge_on(page) is not None
    checked = hasher_calls()
    refused = post(stranger, "boss", PASSWORD, ip="192.0.2.30")
    assert "Confirm that you are a person" in refused.content.decode()
    assert hasher_calls() == checked
    done = post(stranger, "boss", PASSWORD, ip="192.0.2.30", **{FIELD: solved(page)})
    assert done.status_code == 302


def test_known_devices_sign_in_as_usual_in_attack_mode(admins, clock):
    browser = Client()
    assert post(browser, "boss", PASSWORD, ip="192.0.2.31").status_code == 302
    browser.post("/admin/logout/")
    stuff()
    assert post(browser, "boss", PASSWORD, ip="192.0.2.31").status_code == 302


def test_it_ends_after_10_calm_minutes_with_the_figures(admins, heard, clock):
    stuff(THRESHOLD + 2)  # the last two need the challenge: not failures
    clock.shift(timedelta(minutes=5))
    assert attack.active(get_config())
    clock.shift(timedelta(minutes=6))
    page = Client().get("/admin/login/", REMOTE_ADDR="192.0.2.40")
    assert challenge_on(page) is None
    period = AttackPeriod.objects.get()
    assert not period.is_open and period.ended_at is not None
    assert [e.reason for e in heard] == ["started", "ended"]
    ended = mail.outbox[-1]
    assert "Attack mode ended" in ended.subject
    assert f"Failed logins while it lasted: {THRESHOLD}" in ended.body
    assert "/admin/login-security/failed-logins/" in ended.body
    assert f"Threshold: {THRESHOLD}" in ended.body
    assert len(mail.outbox) == 2


def test_it_lasts_while_the_attack_goes_on(admins, heard, clock):
    """Bursts every 8 minutes that never solve the challenge: refused, not
    counted, yet they keep attack mode on."""
    stuff()
    for minute in range(3):
        clock.shift(timedelta(minutes=8))
        stuff(THRESHOLD, start=100 * (minute + 1))
    assert attack.active(get_config())
    assert AttackPeriod.objects.count() == 1
    assert [e.reason for e in heard] == ["started"]


def test_the_dashboard_and_the_reports_show_a_banner(admins, client, clock):
    client.force_login(admins)
    assert "data-loginlimit-attack" not in client.get("/admin/").content.decode()
    stuff()
    assert "data-loginlimit-attack" in client.get("/admin/").content.decode()
    report = client.get("/admin/login-security/failed-logins/")
    assert "Attack mode since" in report.content.decode()


def test_no_line_for_fail2ban(admins, caplog, clock):
    with caplog.at_level(logging.DEBUG, logger="wagtail_loginlimit.security"):
        stuff()
    security = [r for r in caplog.records if r.name == "wagtail_loginlimit.security"]
    assert security, "the failures themselves are logged"
    assert not [r for r in security if "attack" in r.getMessage().lower()]


def test_two_requests_crossing_together_start_one_period(admins, heard, clock):
    stuff(THRESHOLD - 1)
    post(Client(), "late", ip="192.0.2.50")
    attack.observe(get_config())  # a second request seeing the same rate
    assert AttackPeriod.objects.count() == 1
    assert len(heard) == 1


def test_a_threshold_of_0_turns_it_off(settings, admins, clock):
    settings.WAGTAIL_LOGINLIMIT = {"attack_threshold": 0}
    stuff(50)
    assert not AttackPeriod.objects.exists()
    assert mail.outbox == []


def test_with_the_defaults_a_stuffing_run_gets_about_100_checks(
    settings, admins, clock, hasher_calls
):
    """The issue's attack on a fresh install: addresses from everywhere and
    a new name each try. Attack mode (100 in 10 minutes) stops the password
    checks where each address used to get its own four."""
    settings.WAGTAIL_LOGINLIMIT = {}
    checked = 0
    for n in range(300):
        before = hasher_calls()
        post(Client(), f"someone{n}", ip=address_in_own_network(n))
        checked += hasher_calls() > before
    assert checked == 100
    assert AttackPeriod.objects.filter(is_open=True).exists()


def test_in_attack_mode_the_login_form_offers_a_sign_in_link(
    admins, clock, hasher_calls
):
    """The owner on a browser the site does not know: a link next to the
    challenge leads to the page that asks for a sign-in link; asking checks
    no password and counts nothing."""
    stuff()
    mail.outbox.clear()
    browser = Client()
    page = browser.get("/admin/login/", REMOTE_ADDR="192.0.2.60")
    html = page.content.decode()
    assert 'href="?loginlimit_sign_in_link_page=1"' in html
    # Only the form's own button submits it: Enter still signs in.
    assert html.count('type="submit"') == 1
    ask_page = browser.get(
        "/admin/login/", {"loginlimit_sign_in_link_page": "1"}, REMOTE_ADDR="192.0.2.60"
    )
    assert 'name="loginlimit_sign_in_link"' in ask_page.content.decode()
    checked = hasher_calls()
    answer = browser.post(
        "/admin/login/", {"loginlimit_sign_in_link": "boss"}, REMOTE_ADDR="192.0.2.60"
    )
    assert "a sign-in link is on its way" in answer.content.decode()
    assert hasher_calls() == checked
    [message] = mail.outbox
    assert message.to == ["boss@example.com"]
    assert "loginlimit_link=" in message.body


def test_without_attack_mode_the_form_offers_no_link(settings, admins, clock):
    settings.WAGTAIL_LOGINLIMIT = {"captcha_after": 1, "challenge_cost": 10}
    post(Client(), "boss", ip="192.0.2.61")
    page = post(Client(), "boss", ip="192.0.2.61")
    assert challenge_on(page) is not None
    assert "loginlimit_sign_in_link_page" not in page.content.decode()


def test_it_starts_on_the_real_clock_too(admins, heard):
    """Without a stopped clock: each failure's log row is stamped after the
    attempt began, and the rate that counts it is read after it."""
    stuff()
    assert [e.reason for e in heard] == ["started"]
