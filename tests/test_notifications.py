"""Lockout notifications: the log warning and the admins' email.

Lockouts are made by real failed logins through the Django test client. Emails go
through Django's locmem backend (`mailoutbox`) and, once, through Django's SMTP
backend to a real SMTP server (aiosmtpd) listening on loopback."""

import email
import logging
import socket
from datetime import timedelta
from functools import partial

import django
import pytest
from aiosmtpd.controller import Controller
from django.contrib.auth import get_user_model

from tests import helpers
from tests.conftest import PASSWORD

ATTACKER = "203.0.113.7"
REPORT = "http://testserver/admin/"


@pytest.fixture
def notify(settings):
    """Fix notification settings in code (`WAGTAIL_LOGINLIMIT`)."""

    def apply(**values):
        settings.WAGTAIL_LOGINLIMIT = {
            "lockout_notify": "email",
            "notify_email_after": 1,
            **values,
        }

    apply()
    return apply


@pytest.fixture
def lock_out(db, login, clock):
    """`helpers.lock_out` with the `login` fixture, on the stopped clock."""
    return partial(helpers.lock_out, login)


# --- who gets it, and when ---


def test_an_email_per_lockout_to_the_superusers(
    lock_out, notify, admin_user, mailoutbox
):
    User = get_user_model()
    User.objects.create_superuser("second", "second@example.com", PASSWORD)
    User.objects.create_superuser("gone", "gone@example.com", PASSWORD, is_active=False)
    User.objects.create_superuser("nomail", "", PASSWORD)
    User.objects.create_user("staff", "staff@example.com", PASSWORD, is_staff=True)
    lock_out()
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["admin@example.com", "second@example.com"]


def test_notify_recipients_replace_the_superusers(
    lock_out, notify, admin_user, mailoutbox
):
    notify(notify_recipients=["security@example.com", "ops@example.com"])
    lock_out()
    assert [m.to for m in mailoutbox] == [["security@example.com", "ops@example.com"]]


def test_email_content(lock_out, notify, admin_user, mailoutbox):
    lock_out(username="bob")
    [message] = mailoutbox
    assert message.subject == f"[Test site] Login lockout of {ATTACKER}"
    body = message.body
    assert f"IP address: {ATTACKER}" in body
    assert "Username tried: bob" in body
    assert "Failed logins: 4" in body
    assert "Lockouts in the valid window: 1" in body
    assert "Long lockout: no" in body
    assert "Lockout ends: March 1, 2025, 12:20 p.m. UTC (lasts 20\xa0minutes)" in body
    assert f"{REPORT}" in body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert f"<td>{ATTACKER}</td>" in html
    assert "<td>4</td>" in html


def test_email_links_to_the_active_lockouts_report(
    lock_out, notify, admin_user, mailoutbox
):
    from django.urls import NoReverseMatch, reverse

    try:
        expected = "http://testserver" + reverse("wagtail_loginlimit:active_lockouts")
    except NoReverseMatch:  # the report is not installed: the admin home
        expected = "http://testserver" + reverse("wagtailadmin_home")
    lock_out()
    assert expected in mailoutbox[0].body
    assert f'href="{expected}"' in mailoutbox[0].alternatives[0][0]


def test_email_link_never_uses_the_attackers_host_header(
    lock_out, notify, admin_user, mailoutbox, settings
):
    del settings.WAGTAILADMIN_BASE_URL
    lock_out(HTTP_HOST="phishing.example")
    [message] = mailoutbox
    assert "phishing.example" not in message.body
    assert "phishing.example" not in message.alternatives[0][0]
    assert "Active lockouts: /admin/" in message.body


def test_hostile_username_cannot_forge_email_lines_or_html(
    lock_out, notify, admin_user, mailoutbox
):
    lock_out(username="x\r\nIP address: 198.51.100.66\n<script>alert(1)</script>\u202e")
    [message] = mailoutbox
    assert "\nIP address: 198.51.100.66" not in message.body
    assert (
        "Username tried: x\\r\\nIP address: 198.51.100.66\\n<script>alert(1)</script>\\u202e"
        in message.body
    )
    html = message.alternatives[0][0]
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "\u202e" not in html


def test_email_only_from_the_configured_lockout_on(
    lock_out, notify, admin_user, mailoutbox, clock
):
    notify(notify_email_after=2)
    lock_out()
    assert mailoutbox == []
    clock.shift(timedelta(minutes=21))
    lock_out()
    assert len(mailoutbox) == 1
    assert "Lockouts in the valid window: 2" in mailoutbox[0].body


def test_zero_means_every_lockout(lock_out, notify, admin_user, mailoutbox):
    notify(notify_email_after=0)
    lock_out()
    assert len(mailoutbox) == 1


def test_a_long_lockout_is_always_emailed(
    lock_out, notify, admin_user, mailoutbox, clock
):
    # Two lockouts make a long one, and the count then starts again: a
    # threshold of 5 is never reached, but the long lockout is still reported.
    notify(notify_email_after=5, allowed_lockouts=2)
    lock_out()
    clock.shift(timedelta(minutes=21))
    lock_out()
    [message] = mailoutbox
    assert message.subject == f"[Test site] Long login lockout of {ATTACKER}"
    assert "Long lockout: yes" in message.body
    assert "(lasts 1\xa0day)" in message.body


@pytest.mark.parametrize("channels", ["", "log"])
def test_no_email_unless_email_is_chosen(
    lock_out, notify, admin_user, mailoutbox, channels
):
    notify(lockout_notify=channels)
    lock_out()
    assert mailoutbox == []


def test_the_admin_panel_setting_turns_emails_on(
    lock_out, admin_limits, admin_user, mailoutbox
):
    admin_limits(lockout_notify="log,email", notify_email_after=1)
    lock_out()
    assert len(mailoutbox) == 1


def test_never_more_than_one_email_per_lockout(
    lock_out, login, client, notify, admin_user, mailoutbox
):
    lock_out()
    # The locked-out page rendered again and again, refused tries, a GET.
    for _ in range(3):
        assert login("someone").status_code == 429
        assert login("admin", password=PASSWORD).status_code == 429
    client.get("/admin/login/", REMOTE_ADDR=ATTACKER)
    assert len(mailoutbox) == 1


def test_one_email_for_each_lockout(lock_out, notify, admin_user, mailoutbox, clock):
    lock_out(ip="198.51.100.1")
    lock_out(ip="198.51.100.2")
    clock.shift(timedelta(minutes=21))
    lock_out(ip="198.51.100.1")
    assert [m.subject.rsplit(" ", 1)[1] for m in mailoutbox] == [
        "198.51.100.1",
        "198.51.100.2",
        "198.51.100.1",
    ]


def test_refused_tries_after_a_lockout_send_no_more_email(
    lock_out, login, notify, admin_user, mailoutbox
):
    """The handler announces a lockout once, when it begins; the refused tries
    that follow (even with the right password) send nothing."""
    lock_out()
    for _ in range(5):
        assert login("someone").status_code == 429

    assert len(mailoutbox) == 1


# --- language and templates ---


def test_email_is_in_the_sites_language_not_the_attackers(
    lock_out, notify, admin_user, mailoutbox, settings
):
    settings.LANGUAGE_CODE = "de"
    lock_out(HTTP_ACCEPT_LANGUAGE="fr")
    body = mailoutbox[0].body
    # Django's own German date format and month names, not the French ones.
    assert "1. März 2025 12:20" in body
    assert "mars" not in body


def test_a_site_can_override_the_templates(
    lock_out, notify, admin_user, mailoutbox, settings, tmp_path
):
    folder = tmp_path / "wagtail_loginlimit" / "emails"
    folder.mkdir(parents=True)
    (folder / "lockout_subject.txt").write_text(
        "{% load i18n %}{% get_current_language as LANG %}"
        "Intruder {{ ip_address }}\n({{ LANG }}, failures: {{ failure_count }})\n"
    )
    (folder / "lockout.txt").write_text("Blocked {{ ip_address }}")
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    lock_out()
    [message] = mailoutbox
    assert message.subject == f"Intruder {ATTACKER} (en, failures: 4)"
    assert message.body == f"Blocked {ATTACKER}"
    assert "<table" in message.alternatives[0][0]  # the shipped HTML template


# --- failures never break a login ---


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def use_smtp(settings, port: int) -> None:
    """Point Django at an SMTP server on loopback, the way the Django version
    in use wants it (Django 6.1 replaced EMAIL_BACKEND by MAILERS)."""
    backend = "django.core.mail.backends.smtp.EmailBackend"
    if django.VERSION >= (6, 1):
        settings.MAILERS = {
            "default": {
                "BACKEND": backend,
                "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 10},
            }
        }
    else:
        settings.EMAIL_BACKEND = backend
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = port
        settings.EMAIL_TIMEOUT = 10


def test_a_send_error_is_logged_and_the_login_goes_on(
    lock_out, login, notify, admin_user, settings, caplog
):
    use_smtp(settings, free_port())  # nothing listens there
    with caplog.at_level(logging.ERROR, logger="wagtail_loginlimit.notifications"):
        response = lock_out()
    assert response.status_code == 429
    assert "The lockout email could not be sent" in caplog.text
    assert login("someone").status_code == 429


def test_no_recipients_is_logged_and_the_login_goes_on(
    lock_out, notify, mailoutbox, caplog
):
    with caplog.at_level(logging.WARNING, logger="wagtail_loginlimit.notifications"):
        assert lock_out().status_code == 429
    assert mailoutbox == []
    assert "no recipients" in caplog.text


def test_a_broken_site_template_is_logged_and_the_login_goes_on(
    lock_out, notify, admin_user, mailoutbox, settings, tmp_path, caplog
):
    folder = tmp_path / "wagtail_loginlimit" / "emails"
    folder.mkdir(parents=True)
    (folder / "lockout.txt").write_text("{% if %}")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    with caplog.at_level(logging.ERROR, logger="wagtail_loginlimit.notifications"):
        assert lock_out().status_code == 429
    assert mailoutbox == []
    assert "could not be sent" in caplog.text


# --- the log channel ---


def test_log_writes_one_warning_per_lockout(lock_out, notify, caplog):
    notify(lockout_notify="log")
    with caplog.at_level(logging.INFO, logger="wagtail_loginlimit.security"):
        lock_out()
    lockouts = [r for r in caplog.records if "loginlimit lockout" in r.getMessage()]
    assert len(lockouts) == 1
    assert lockouts[0].levelno == logging.WARNING
    assert lockouts[0].getMessage().startswith(f"loginlimit lockout ip={ATTACKER} ")


def test_no_log_line_for_lockouts_when_log_is_off(lock_out, notify, caplog):
    notify(lockout_notify="email")
    with caplog.at_level(logging.INFO, logger="wagtail_loginlimit.security"):
        lock_out()
    assert not [r for r in caplog.records if "loginlimit lockout" in r.getMessage()]


# --- configuration ---


@pytest.mark.parametrize(
    "value",
    ["admin@example.com", ["not an address"], [42], "a@example.com, b@example.com"],
)
def test_bad_notify_recipients_are_a_system_check_error(settings, value):
    from django.core import checks

    settings.WAGTAIL_LOGINLIMIT = {"notify_recipients": value}
    errors = [e for e in checks.run_checks() if e.id == "wagtail_loginlimit.E001"]
    assert [e for e in errors if "notify_recipients" in e.msg]


# --- a real SMTP server ---


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_server(settings):
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    use_smtp(settings, port)
    yield inbox
    controller.stop()


def test_the_email_goes_through_a_real_smtp_server(
    lock_out, notify, admin_user, smtp_server
):
    lock_out(username="bob")
    [envelope] = smtp_server.envelopes
    assert envelope.rcpt_tos == ["admin@example.com"]
    message = email.message_from_bytes(envelope.content)
    assert message["Subject"] == f"[Test site] Login lockout of {ATTACKER}"
    assert message["To"] == "admin@example.com"
    assert message.get_content_type() == "multipart/alternative"
    text, html = (
        part.get_payload(decode=True).decode() for part in message.get_payload()
    )
    assert f"IP address: {ATTACKER}" in text
    assert "Failed logins: 4" in text
    assert f"<td>{ATTACKER}</td>" in html


@pytest.mark.parametrize(
    ("method", "subject"),
    [
        ("ip", f"[Test site] Login lockout of {ATTACKER}"),
        ("username", "[Test site] Login lockout of Bob"),
        ("ip_and_username", f"[Test site] Login lockout of Bob @ {ATTACKER}"),
    ],
)
def test_the_subject_names_what_is_locked_out(
    lock_out, notify, admin_user, mailoutbox, method, subject
):
    notify(lockout_method=method)
    lock_out(username="Bob")

    [message] = mailoutbox
    assert message.subject == subject


def test_a_mail_server_that_is_down_never_breaks_the_login(
    lock_out, notify, admin_user, settings, caplog
):
    # Real SMTP backend, a port where nothing listens.
    from tests import services

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", services.free_port()
    settings.EMAIL_TIMEOUT = 2

    lock_out()  # 429, not 500

    assert "The lockout email could not be sent" in caplog.text
