"""The digest (`digest` = daily / weekly) and `loginlimit_digest`: what it
says, to whom, in which language, and that each period goes out once however
often cron runs it. Emails go through Django's locmem backend (`mailoutbox`);
the clock is time-machine's."""

from __future__ import annotations

import re
import threading
from datetime import UTC, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from axes.models import AccessFailureLog
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from wagtail_loginlimit import conf, digest
from wagtail_loginlimit.models import Deactivation, Lockout, SentDigest

BERLIN = ZoneInfo("Europe/Berlin")
# Wednesday 5 March 2025, 09:30 in Berlin.
WEDNESDAY = datetime(2025, 3, 5, 9, 30, tzinfo=BERLIN)


@pytest.fixture
def berlin(settings):
    settings.TIME_ZONE = "Europe/Berlin"


@pytest.fixture
def at(time_machine):
    """Stop the clock at a moment: `at(datetime(...))`."""

    def move(moment):
        time_machine.move_to(moment, tick=False)

    return move


def fail(when, ip="198.51.100.4", username="admin", times=1):
    """`times` failed logins at `when` in axes' failure log (its attempt_time
    is auto_now_add, so it is set after the insert)."""
    rows = AccessFailureLog.objects.bulk_create(
        AccessFailureLog(
            ip_address=ip,
            username=username,
            user_agent="test",
            path_info="/admin/login/",
            locked_out=False,
        )
        for _ in range(times)
    )
    AccessFailureLog.objects.filter(pk__in=[row.pk for row in rows]).update(
        attempt_time=when
    )


def lockout(when, ip="198.51.100.4", long=False):
    return Lockout.objects.create(
        key=f"ip:{ip}:{when.timestamp()}",
        scope="ip",
        ip_address=ip,
        ip_group=ip,
        started_at=when,
        ends_at=when + timedelta(minutes=20),
        is_long=long,
        failure_count=4,
    )


def run(*args, **options) -> str:
    out = StringIO()
    call_command("loginlimit_digest", *args, stdout=out, **options)
    return out.getvalue()


# --- periods ----------------------------------------------------------------------


def test_the_daily_period_is_yesterday_in_the_site_time_zone(berlin, at):
    at(datetime(2025, 3, 5, 0, 30, tzinfo=BERLIN))  # 23:30 UTC on the 4th
    period = digest.last_period("daily")
    assert period.start == datetime(2025, 3, 4, tzinfo=BERLIN)
    assert period.end == datetime(2025, 3, 5, tzinfo=BERLIN)


def test_the_weekly_period_is_last_monday_to_sunday(berlin, at):
    at(WEDNESDAY)
    period = digest.last_period("weekly")
    assert period.start == datetime(2025, 2, 24, tzinfo=BERLIN)
    assert period.end == datetime(2025, 3, 3, tzinfo=BERLIN)
    assert (period.first_day.isoformat(), period.last_day.isoformat()) == (
        "2025-02-24",
        "2025-03-02",
    )


def test_a_day_with_a_clock_change_has_23_hourly_bars(berlin, at, db):
    at(datetime(2025, 3, 31, 9, 0, tzinfo=BERLIN))  # 30 March: summer time begins
    assert len(digest.summarise(digest.last_period("daily")).bars) == 23


# --- once per period --------------------------------------------------------------


def test_hourly_runs_send_each_day_once(configure, admin_user, mailoutbox, at, berlin):
    configure(digest="daily")
    start = datetime(2025, 3, 4, 0, 5, tzinfo=BERLIN)
    sent = []
    for hour in range(48):
        at(start + timedelta(hours=hour))
        run(verbosity=0)
        sent.append(len(mailoutbox))
    # The 4th's first run sends the 3rd; the 5th's first run sends the 4th.
    assert sent[0] == 1 and sent[23] == 1 and sent[24] == 2 and sent[47] == 2
    assert [m.to for m in mailoutbox] == [["admin@example.com"]] * 2
    assert list(
        SentDigest.objects.order_by("period_start").values_list(
            "frequency", "period_start"
        )
    ) == [
        ("daily", datetime(2025, 3, 2, 23, tzinfo=UTC)),
        ("daily", datetime(2025, 3, 3, 23, tzinfo=UTC)),
    ]
    assert all(SentDigest.objects.values_list("sent_at", flat=True))


def test_weekly_runs_send_each_week_once(configure, admin_user, mailoutbox, at, berlin):
    configure(digest="weekly")
    for day in range(14):
        at(WEDNESDAY + timedelta(days=day))
        run(verbosity=0)
    # Weeks of 24 Feb (sent on the 5th), 3 March (on the 10th) and 10 March (17th).
    assert len(mailoutbox) == 3
    assert "Feb. 24, 2025 to March 2, 2025" in mailoutbox[0].subject


def test_the_command_says_what_it_did(settings, admin_user, mailoutbox, at):
    settings.WAGTAIL_LOGINLIMIT = {"digest": "daily"}
    at(datetime(2025, 3, 5, 6, 0, tzinfo=UTC))
    assert run() == "Sent the daily digest of 2025-03-04 to admin@example.com.\n"
    assert run() == "The daily digest of 2025-03-04 was sent already.\n"
    assert len(mailoutbox) == 1


def test_off_by_default_sends_nothing(admin_user, mailoutbox, db):
    assert conf.get_config().digest == ""
    assert run() == "The digest is off (digest setting empty); nothing to send.\n"
    assert mailoutbox == []
    assert not SentDigest.objects.exists()


def test_frequency_option_overrides_the_setting(admin_user, mailoutbox, at):
    at(datetime(2025, 3, 5, 6, 0, tzinfo=UTC))
    run("--frequency", "weekly", verbosity=0)
    assert len(mailoutbox) == 1
    assert SentDigest.objects.get().frequency == "weekly"


def test_a_run_that_finds_the_period_claimed_sends_nothing(
    settings, admin_user, mailoutbox, at
):
    """Another run (another server's cron) claimed the period a moment ago and
    is sending it: this one must not send it too."""
    settings.WAGTAIL_LOGINLIMIT = {"digest": "daily"}
    at(datetime(2025, 3, 5, 6, 0, tzinfo=UTC))
    period = digest.last_period("daily")
    SentDigest.objects.create(
        frequency="daily",
        period_start=period.start,
        period_end=period.end,
        claimed_at=datetime(2025, 3, 5, 5, 59, tzinfo=UTC),
    )
    assert digest.send_due_digest().status == digest.ALREADY_SENT
    assert mailoutbox == []


def test_a_claim_left_by_a_run_that_died_is_taken_over(
    settings, admin_user, mailoutbox, at
):
    settings.WAGTAIL_LOGINLIMIT = {"digest": "daily"}
    at(datetime(2025, 3, 5, 6, 0, tzinfo=UTC))
    period = digest.last_period("daily")
    SentDigest.objects.create(
        frequency="daily",
        period_start=period.start,
        period_end=period.end,
        claimed_at=datetime(2025, 3, 5, 4, 0, tzinfo=UTC),
    )
    assert digest.send_due_digest().status == digest.SENT
    assert digest.send_due_digest().status == digest.ALREADY_SENT
    assert len(mailoutbox) == 1


def test_a_digest_that_could_not_be_sent_is_retried(
    settings, admin_user, mailoutbox, at, caplog
):
    settings.WAGTAIL_LOGINLIMIT = {"digest": "daily"}
    settings.EMAIL_BACKEND = "tests.test_digest.BrokenBackend"
    at(datetime(2025, 3, 5, 6, 0, tzinfo=UTC))
    with pytest.raises(CommandError, match="could not be sent"):
        run()
    assert "The login digest could not be sent" in caplog.text
    assert not SentDigest.objects.exists()

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    at(datetime(2025, 3, 5, 7, 0, tzinfo=UTC))
    run(verbosity=0)
    assert len(mailoutbox) == 1


def test_no_recipient_is_not_a_sent_digest(settings, mailoutbox, at, caplog, db):
    settings.WAGTAIL_LOGINLIMIT = {"digest": "daily"}
    at(datetime(2025, 3, 5, 6, 0, tzinfo=UTC))
    assert digest.send_due_digest().status == digest.NOT_SENT
    assert "no recipients" in caplog.text
    assert not SentDigest.objects.exists()


def test_it_goes_to_the_lockout_email_recipients(settings, admin_user, mailoutbox, at):
    settings.WAGTAIL_LOGINLIMIT = {
        "digest": "daily",
        "notify_recipients": ["security@example.com", "ops@example.com"],
    }
    at(datetime(2025, 3, 5, 6, 0, tzinfo=UTC))
    run(verbosity=0)
    assert mailoutbox[0].to == ["security@example.com", "ops@example.com"]


class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise OSError("mail server down")


# --- what it says -----------------------------------------------------------------


@pytest.fixture
def busy_day(db, berlin):
    """4 March 2025 in Berlin: an attack from one /24 and one IPv6 /48, and a
    quieter 3 March before it."""
    day = datetime(2025, 3, 4, tzinfo=BERLIN)
    fail(day + timedelta(hours=2), ip="198.51.100.4", username="admin", times=30)
    fail(
        day + timedelta(hours=2, minutes=5),
        ip="198.51.100.9",
        username="root",
        times=10,
    )
    fail(day + timedelta(hours=14), ip="203.0.113.7", username="editor", times=5)
    fail(
        day + timedelta(hours=23, minutes=59),
        ip="2001:db8:1:2::7",
        username="admin",
        times=3,
    )
    fail(
        day + timedelta(hours=23),
        ip="2001:db8:1:ffff::1",
        username="<b>x</b>\n",
        times=2,
    )
    fail(day - timedelta(hours=1), ip="192.0.2.1", username="admin", times=7)  # the 3rd
    fail(
        day + timedelta(days=1), ip="192.0.2.1", username="admin", times=100
    )  # the 5th
    lockout(day + timedelta(hours=2))
    lockout(day + timedelta(hours=3), long=True)
    lockout(day - timedelta(hours=3))  # the 3rd
    return day


def test_the_figures_of_the_day(busy_day):
    summary = digest.summarise(
        digest.period_ending("daily", busy_day.date() + timedelta(days=1))
    )
    assert summary.failures == 50
    assert summary.previous_failures == 7
    assert (summary.lockouts, summary.long_lockouts) == (2, 1)
    assert summary.addresses == 5
    assert [(r.label, r.count) for r in summary.top_addresses] == [
        ("198.51.100.4", 30),
        ("198.51.100.9", 10),
        ("203.0.113.7", 5),
        ("2001:db8:1:2::7", 3),
        ("2001:db8:1:ffff::1", 2),
    ]
    assert [(r.label, r.count, r.addresses) for r in summary.top_networks] == [
        ("198.51.100.0/24", 40, 2),
        # Ties in the order of their text.
        ("2001:db8:1::/48", 5, 2),
        ("203.0.113.0/24", 5, 1),
    ]
    assert [(r.label, r.count) for r in summary.top_usernames] == [
        ("admin", 33),
        ("root", 10),
        ("editor", 5),
        ("<b>x</b>\\n", 2),
    ]
    counts = [bar.count for bar in summary.bars]
    assert len(counts) == 24
    assert counts[2] == 40 and counts[14] == 5 and counts[23] == 5 and sum(counts) == 50
    assert summary.busiest.count == 40
    assert summary.sparkline[2] == "█" and summary.sparkline[0] == "·"


def test_the_email_in_text_and_html(settings, busy_day, admin_user, mailoutbox, at):
    settings.WAGTAIL_LOGINLIMIT = {"digest": "daily"}
    Deactivation.objects.create(
        user=admin_user, deactivated_at=busy_day + timedelta(hours=5), lockout_count=4
    )
    at(datetime(2025, 3, 5, 7, 0, tzinfo=BERLIN))
    run(verbosity=0)
    [message] = mailoutbox
    assert (
        message.subject
        == "[Test site] Login digest for March 4, 2025: 50 failed logins"
    )
    text = message.body
    assert "Failed logins: 50 (the day before: 7)" in text
    assert "Addresses they came from: 5" in text
    assert "Lockouts: 2 (long: 1)" in text
    assert "Accounts deactivated: 1" in text
    assert "  198.51.100.0/24  40 (2 addresses)" in text
    assert "  203.0.113.0/24  5 (1 address)" in text
    assert "  admin  33" in text
    # Control characters escaped: a username cannot start a line of its own.
    assert "  <b>x</b>\\n  2" in text
    assert "Busiest: 2 a.m. (40)" in text
    assert (
        "http://testserver/admin/loginlimit/failed-logins/" in text
        or "http://testserver/admin/" in text
    )

    [(html, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    assert "&lt;b&gt;x&lt;/b&gt;" in html and "<b>x</b>" not in html
    assert "<svg" not in html and "<script" not in html and "data:" not in html
    bars = re.findall(r'<td height="(\d+)" bgcolor="#2e6ca5"', html)
    # Hours 2 (40 failures, the tallest), 14 and 23 (5 each).
    assert bars == [str(digest.CHART_HEIGHT), "10", "10"]
    assert html.count('<td valign="bottom"') == 24


def test_a_quiet_period_says_so(settings, admin_user, mailoutbox, at):
    settings.WAGTAIL_LOGINLIMIT = {"digest": "daily"}
    at(datetime(2025, 3, 5, 7, 0, tzinfo=UTC))
    run(verbosity=0)
    assert "0 failed logins" in mailoutbox[0].subject
    assert "No failed logins in this period." in mailoutbox[0].body


def test_numbers_have_separators(settings, admin_user, mailoutbox, at):
    settings.WAGTAIL_LOGINLIMIT = {"digest": "daily"}
    fail(datetime(2025, 3, 4, 12, tzinfo=UTC), times=5000)
    at(datetime(2025, 3, 5, 7, 0, tzinfo=UTC))
    run(verbosity=0)
    assert "5,000 failed logins" in mailoutbox[0].subject
    assert "Failed logins: 5,000" in mailoutbox[0].body


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("de", "fehlgeschlagene Anmeldungen"),
        ("fr", "connexions échouées"),
        ("es", "inicios de sesión fallidos"),
        ("nl", "mislukte aanmeldingen"),
    ],
)
def test_written_in_the_site_language(
    settings, busy_day, admin_user, mailoutbox, at, language, words
):
    settings.LANGUAGE_CODE = language
    settings.WAGTAIL_LOGINLIMIT = {"digest": "weekly"}
    at(datetime(2025, 3, 10, 7, 0, tzinfo=BERLIN))
    run(verbosity=0)
    [message] = mailoutbox
    assert words in message.subject
    assert "Login digest" not in message.subject
    assert "Usernames tried most" not in message.body
    assert len(re.findall(r'<td valign="bottom"', message.alternatives[0][0])) == 7


def test_dry_run_prints_and_records_nothing(
    settings, busy_day, admin_user, mailoutbox, at
):
    settings.WAGTAIL_LOGINLIMIT = {"digest": "daily"}
    at(datetime(2025, 3, 5, 7, 0, tzinfo=BERLIN))
    out = run("--dry-run")
    assert out.startswith("To: admin@example.com\nSubject: [Test site] Login digest")
    assert "198.51.100.0/24" in out
    assert mailoutbox == [] and not SentDigest.objects.exists()


# --- the setting --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "parsed"),
    [("", ""), (None, ""), ("Daily", "daily"), (" weekly ", "weekly")],
)
def test_code_values(value, parsed):
    assert conf.parse_value("digest", value) == parsed


@pytest.mark.parametrize("value", ["monthly", 1, ["daily"]])
def test_invalid_code_values_are_refused(value):
    with pytest.raises(
        ValidationError, match="digest must be empty, 'daily' or 'weekly'"
    ):
        conf.parse_value("digest", value)


def test_set_in_the_panel_or_in_code(configure):
    configure(digest="weekly")
    assert conf.get_config().digest == "weekly"


@pytest.mark.django_db(transaction=True)
def test_runs_at_the_same_moment_send_it_once(settings, mailoutbox, at):
    """Cron on several servers: the runs race for the period's row, and the
    unique constraint lets one of them win."""
    if connection.vendor == "sqlite":
        pytest.skip(
            "SQLite's shared in-memory test database refuses concurrent writers "
            "instead of queueing them; runs with LOGINLIMIT_TEST_STORE=postgres"
        )
    get_user_model().objects.create_superuser("admin", "admin@example.com", "x")
    settings.WAGTAIL_LOGINLIMIT = {"digest": "daily"}
    at(datetime(2025, 3, 5, 6, 0, tzinfo=UTC))
    runs = 4
    barrier = threading.Barrier(runs)
    results = []

    def one_run():
        try:
            barrier.wait(timeout=30)
            results.append(digest.send_due_digest().status)
        finally:
            connection.close()

    threads = [threading.Thread(target=one_run) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(results) == [digest.ALREADY_SENT] * (runs - 1) + [digest.SENT]
    assert len(mailoutbox) == 1
    assert SentDigest.objects.get().sent_at is not None


def test_an_invalid_code_value_is_a_system_check_error(settings, db):
    from wagtail_loginlimit.checks import check_configuration

    settings.WAGTAIL_LOGINLIMIT = {"digest": "monthly"}
    [error] = check_configuration()
    assert error.id == "wagtail_loginlimit.E001"
    assert "digest" in error.msg and "monthly" in error.msg
    assert conf.get_config().digest == ""  # the default is used meanwhile


def test_the_command_refuses_an_unknown_frequency(db):
    with pytest.raises(CommandError, match="invalid choice"):
        run("--frequency", "monthly")
