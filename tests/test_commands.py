"""The management commands: loginlimit_list, loginlimit_unlock, loginlimit_purge.

Lockouts are made by real failed logins through the Django test client; the
commands run through `call_command`, and once each as a real `django-admin`
process to see `--help`, error messages and exit codes as an operator does."""

import json
import os
import subprocess
import sys
from datetime import timedelta
from functools import partial
from io import StringIO
from pathlib import Path

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.core.management import CommandError, call_command
from wagtail import hooks

from tests import helpers
from wagtail_loginlimit import storage
from wagtail_loginlimit.models import FailureCounter, KnownDevice, Lockout

ROOT = Path(__file__).resolve().parent.parent
ATTACKER = "203.0.113.7"


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def cli(*args, database: Path | None = None) -> subprocess.CompletedProcess:
    """`django-admin ARGS` in a fresh process with the test settings."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "PYTHONPATH": str(ROOT),
    }
    if database is not None:
        env["LOGINLIMIT_TEST_SQLITE"] = str(database)
    return subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
        [sys.executable, "-m", "django", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )


@pytest.fixture
def lock_out(db, login, clock):
    """`helpers.lock_out` with the `login` fixture, on the stopped clock."""
    return partial(helpers.lock_out, login)


# --- loginlimit_list ---


def test_list_says_when_nothing_is_locked(db):
    assert run("loginlimit_list").strip() == "No active lockouts."
    assert json.loads(run("loginlimit_list", "--format", "json")) == []


def test_list_shows_an_active_lockout_as_table_and_json(lock_out):
    lock_out()
    table = run("loginlimit_list").splitlines()
    assert table[0].split() == [
        "WHO",
        "SCOPE",
        "IP",
        "USERNAME",
        "STARTED",
        "ENDS",
        "LONG",
        "LIFTED",
    ]
    assert table[1].split() == [
        ATTACKER,
        "ip",
        ATTACKER,
        "-",
        "2025-03-01T12:00:00+00:00",
        "2025-03-01T12:20:00+00:00",
        "no",
        "-",
    ]

    [item] = json.loads(run("loginlimit_list", "--format", "json"))
    assert item["who"] == ATTACKER
    assert item["scope"] == "ip"
    assert item["ip"] == ATTACKER
    assert item["started"] == "2025-03-01T12:00:00+00:00"
    assert item["ends"] == "2025-03-01T12:20:00+00:00"
    assert item["long"] is False
    assert item["failures"] == 4
    assert item["active"] is True
    assert item["lifted"] is None


def test_list_shows_times_in_the_sites_time_zone(lock_out, settings):
    settings.TIME_ZONE = "Europe/Berlin"
    lock_out()
    [item] = json.loads(run("loginlimit_list", "--format", "json"))
    assert item["started"] == "2025-03-01T13:00:00+01:00"


def test_list_hides_ended_lockouts_unless_all(lock_out, clock):
    lock_out()
    clock.shift(timedelta(minutes=21))
    assert run("loginlimit_list").strip() == "No active lockouts."
    [item] = json.loads(run("loginlimit_list", "--all", "--format", "json"))
    assert item["active"] is False
    assert "203.0.113.7" in run("loginlimit_list", "--all")


def test_list_all_shows_how_a_lockout_was_lifted(lock_out, clock):
    lock_out()
    clock.shift(timedelta(minutes=1))
    run("loginlimit_unlock", "--ip", ATTACKER)
    assert run("loginlimit_list").strip() == "No active lockouts."
    row = run("loginlimit_list", "--all").splitlines()[1]
    assert row.endswith("2025-03-01T12:01:00+00:00 (command)")
    [item] = json.loads(run("loginlimit_list", "--all", "--format", "json"))
    assert item["lift_reason"] == "command"
    assert item["lifted"] == "2025-03-01T12:01:00+00:00"


def test_list_escapes_control_characters_of_usernames(lock_out, settings):
    settings.WAGTAIL_LOGINLIMIT = {"lockout_method": "username"}
    lock_out(username="evil\x1b[2J\nname")
    output = run("loginlimit_list")
    assert "\x1b" not in output
    assert len(output.strip().splitlines()) == 2  # header + one row, no forged row
    assert "evil\\x1b[2j\\nname" in output  # escaped (and case-folded)
    [item] = json.loads(run("loginlimit_list", "--format", "json"))
    assert item["scope"] == "username"
    assert item["username"] == "evil\x1b[2j\nname"  # normalised (case-folded)


def test_list_rejects_an_unknown_format(db):
    with pytest.raises(CommandError, match="invalid choice"):
        run("loginlimit_list", "--format", "xml")


# --- loginlimit_unlock ---


def test_unlock_ip_lets_the_client_log_in_again(lock_out, login, user):
    lock_out()
    output = run("loginlimit_unlock", "--ip", ATTACKER)
    assert "Lifted 1 lockout. Forgot 1 failed-login count." in output
    assert not Lockout.objects.active().exists()
    lockout = Lockout.objects.get()
    assert lockout.lift_reason == Lockout.LIFTED_COMMAND
    assert lockout.lifted_by is None
    response = login("editor", password="correct horse battery staple")
    assert response.status_code == 302


def test_unlock_ip_leaves_other_clients_locked(lock_out):
    lock_out(ip="198.51.100.1")
    lock_out(ip="198.51.100.2")
    run("loginlimit_unlock", "--ip", "198.51.100.1")
    assert list(Lockout.objects.active().values_list("ip_address", flat=True)) == [
        "198.51.100.2"
    ]


def test_unlock_ipv6_address_unlocks_its_network(lock_out):
    lock_out(ip="2001:db8:1:2::1")
    output = run("loginlimit_unlock", "--ip", "2001:db8:1:2::ffff")
    assert "2001:db8:1:2::ffff is counted as 2001:db8:1:2::/64." in output
    assert "Lifted 1 lockout." in output
    assert not Lockout.objects.active().exists()


def test_unlock_username(lock_out, settings):
    settings.WAGTAIL_LOGINLIMIT = {"lockout_method": "username"}
    lock_out(username="Editor")
    output = run("loginlimit_unlock", "--username", "EDITOR")
    assert "Lifted 1 lockout." in output
    assert not Lockout.objects.active().exists()


def test_unlock_all(lock_out):
    lock_out(ip="198.51.100.1")
    lock_out(ip="198.51.100.2")
    output = run("loginlimit_unlock", "--all")
    # Two clients' counts, their network's (198.51.100.0/24) and the name's
    # budget (`account_budget`).
    assert "Lifted 2 lockouts. Forgot 4 failed-login counts." in output
    assert not Lockout.objects.active().exists()
    assert storage.counters() == []


def test_unlock_fires_the_reset_hook_with_the_command_reason(
    lock_out, django_capture_on_commit_callbacks
):
    lock_out()
    seen = []
    with (
        hooks.register_temporarily("loginlimit_reset", seen.append),
        django_capture_on_commit_callbacks(execute=True),  # announced on commit
    ):
        run("loginlimit_unlock", "--ip", ATTACKER)
    assert [(e.ip_address, e.reason) for e in seen] == [(ATTACKER, "command")]


def test_unlock_forgets_a_count_without_lockout(db, login):
    login("someone")
    login("someone")
    output = run("loginlimit_unlock", "--ip", ATTACKER)
    assert "Lifted 0 lockouts. Forgot 1 failed-login count." in output
    assert b"3 attempts remaining" in login("someone").content


def test_unlock_when_nothing_matches(db):
    output = run("loginlimit_unlock", "--ip", "192.0.2.1")
    assert "Nothing to unlock" in output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "Say what to unlock: --ip, --username, --network or --all."),
        (("--all", "--ip", "192.0.2.1"), "--all cannot be combined"),
        (("--ip", "not-an-ip"), "is not an IP address"),
        (("--ip", "10.0.0.0/8"), "is not an IP address"),
        (("--ip", "2001:db8::/48"), "is not an IP address"),
        (("--username", "  "), "--username must not be empty."),
    ],
)
def test_unlock_refuses_bad_input_clearly(db, args, message):
    with pytest.raises(CommandError, match=message):
        run("loginlimit_unlock", *args)


def test_unlock_error_never_echoes_control_characters(db):
    with pytest.raises(CommandError) as error:
        run("loginlimit_unlock", "--ip", "1.2.3.4\x1b[31m")
    assert "\x1b" not in str(error.value)


# --- loginlimit_purge ---


@pytest.fixture
def history(db, client, login, clock, admin_user):
    """100 days of records: a lockout, failures and an access log 100 days ago,
    then one failure 10 days ago, then an active lockout now."""
    lock = {"ip": "198.51.100.1"}
    for _ in range(4):
        login("old", **lock)
    login("admin", password="correct horse battery staple", ip="198.51.100.9")
    # A browser drops the session cookie when it expires (two weeks), long
    # before 90 days: Django's test client would keep sending it.
    del client.cookies[settings.SESSION_COOKIE_NAME]
    clock.shift(timedelta(days=90))
    login("recent", ip="198.51.100.2")
    clock.shift(timedelta(days=10))
    for _ in range(4):
        login("now", ip="198.51.100.3")
    AccessAttempt.objects.create(
        username="legacy", ip_address="198.51.100.4", failures_since_start=1
    )
    return clock


def counts():
    return {
        "failures": AccessFailureLog.objects.count(),
        "access": AccessLog.objects.count(),
        "attempts": AccessAttempt.objects.count(),
        "lockouts": Lockout.objects.count(),
        # The database store's rows, which purge deletes once nothing in them
        # counts (the cache store has none)...
        "counter rows": FailureCounter.objects.count(),
        # ...and the counters of whichever store the run uses.
        "counters": len(storage.counters()),
        # The admin's browser, unused for 100 days.
        "known devices": KnownDevice.objects.count(),
    }


def counters_are_rows() -> bool:
    """Whether the run keeps its counters as database rows (the database
    store) rather than in Redis (the cache store of a `redis` run)."""
    return storage.get_store().name == "database"


def test_purge_deletes_only_what_is_older_than_the_days(history):
    # With the cache store purge leaves Redis alone, and has no counter rows
    # to delete: each Redis key expires by itself once nothing in it counts
    # (its TTL; test_stores.py). Here Redis's clock, unlike the test's, has
    # not moved, so the counter from 100 days ago is still there.
    rows = counters_are_rows()
    before = counts()
    assert before == {
        "failures": 9,
        "access": 1,
        "attempts": 1,
        "lockouts": 2,
        # Three clients, their network (198.51.100.0/24) and the three
        # names' budgets (`account_budget`).
        "counter rows": 7 if rows else 0,
        "counters": 7,
        "known devices": 1,
    }
    output = run("loginlimit_purge", "--days", "30")
    deleted = 9 if rows else 7
    assert f"Deleted {deleted} records older than 2025-05-10T12:00:00+00:00." in output
    assert "axes.AccessFailureLog: 4" in output
    assert "wagtail_loginlimit.Lockout: 1" in output
    assert f"wagtail_loginlimit.FailureCounter: {2 if rows else 0}" in output
    assert "wagtail_loginlimit.KnownDevice: 1" in output
    assert counts() == {
        "failures": 5,
        "access": 0,
        "attempts": 1,
        "lockouts": 1,
        "counter rows": 5 if rows else 0,
        "counters": 5 if rows else 7,
        "known devices": 0,
    }
    # The active lockout is untouched and still refuses.
    assert Lockout.objects.active().get().ip_address == "198.51.100.3"


def test_purge_dry_run_deletes_nothing(history):
    before = counts()
    output = run("loginlimit_purge", "--days", "30", "--dry-run")
    assert f"Dry run: {9 if counters_are_rows() else 7} records older than" in output
    assert counts() == before


def test_purge_is_silent_with_verbosity_zero(history):
    assert run("loginlimit_purge", "--days", "30", "--verbosity", "0") == ""
    assert counts()["failures"] == 5


def test_purge_default_days_come_from_the_code_setting(history, settings):
    output = run("loginlimit_purge", "--dry-run")
    assert "older than 2025-03-11T12:00:00+00:00" in output  # 90 days by default
    settings.WAGTAIL_LOGINLIMIT = {"retention_days": 5}
    output = run("loginlimit_purge")
    assert "older than 2025-06-04T12:00:00+00:00" in output
    assert AccessFailureLog.objects.count() == 4  # only today's lockout remains


def test_purge_keeps_what_the_valid_window_still_counts(db, login, clock, settings):
    settings.WAGTAIL_LOGINLIMIT = {"valid_duration": timedelta(days=10)}
    login("someone")
    clock.shift(timedelta(days=5))
    output = run("loginlimit_purge", "--days", "1")
    assert "The valid window is longer than the retention period" in output
    assert {c.entry_point or c.scope: c.failures for c in storage.counters()} == {
        "ip": 1,
        "network": 1,
        "account_budget": 1,
    }
    assert b"2 attempts remaining" in login("someone").content


def test_purge_never_deletes_an_active_long_lockout(db, login, clock, settings):
    settings.WAGTAIL_LOGINLIMIT = {
        "allowed_lockouts": 1,
        "long_duration": timedelta(days=400),
    }
    for _ in range(4):
        login("someone")
    clock.shift(timedelta(days=200))
    run("loginlimit_purge", "--days", "30")
    assert Lockout.objects.active().count() == 1
    assert login("someone").status_code == 429


def test_purge_refuses_less_than_one_day(db):
    with pytest.raises(CommandError, match="must be from 1 to 36500, not 0"):
        run("loginlimit_purge", "--days", "0")


def test_purge_refuses_an_absurd_number_of_days_without_a_traceback(db):
    with pytest.raises(CommandError, match="must be from 1 to 36500, not 100000000"):
        run("loginlimit_purge", "--days", "100000000")


def test_purge_keeps_the_audit_log_unless_asked(history):
    """The plugin's lockout entries in Wagtail's audit log: kept by default,
    deleted past the cutoff with --audit-log."""
    from wagtail.models import ModelLogEntry

    from wagtail_loginlimit import audit_log

    # Each lockout was logged when it began (100 days ago, and now).
    assert ModelLogEntry.objects.filter(action=audit_log.LOCKOUT).count() == 2

    run("loginlimit_purge", "--days", "30")
    assert ModelLogEntry.objects.filter(action=audit_log.LOCKOUT).count() == 2

    output = run("loginlimit_purge", "--days", "30", "--audit-log")
    assert "wagtailcore.ModelLogEntry: 1" in output
    [kept] = ModelLogEntry.objects.filter(action=audit_log.LOCKOUT)
    assert kept.object_id == str(Lockout.objects.active().get().pk)


def test_retention_days_must_be_a_positive_whole_number(settings):
    from django.core import checks

    settings.WAGTAIL_LOGINLIMIT = {"retention_days": 0}
    errors = [e for e in checks.run_checks() if e.id == "wagtail_loginlimit.E001"]
    assert any("retention_days" in e.msg for e in errors)


# --- as an operator runs them ---


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("loginlimit_list", "--format {table,json}"),
        ("loginlimit_unlock", "--username USERNAME"),
        ("loginlimit_purge", "--dry-run"),
    ],
)
def test_help(command, expected):
    """What `manage.py COMMAND --help` prints (the parser Django builds for it)."""
    from django.core.management import load_command_class

    parser = load_command_class("wagtail_loginlimit", command).create_parser(
        "manage.py", command
    )
    text = " ".join(parser.format_help().split())
    assert expected in text
    assert parser.description in text


@pytest.fixture(scope="module")
def site_database(tmp_path_factory):
    """A migrated SQLite file, as an operator's site has."""
    database = tmp_path_factory.mktemp("site") / "db.sqlite3"
    result = cli("migrate", "--no-input", database=database)
    assert result.returncode == 0, result.stderr
    return database


def test_cli_help_and_output(site_database):
    result = cli("loginlimit_list", "--help", database=site_database)
    assert result.returncode == 0
    assert "--all" in result.stdout
    result = cli("loginlimit_list", database=site_database)
    assert (result.returncode, result.stdout) == (0, "No active lockouts.\n")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (
            ("loginlimit_unlock", "--ip", "nonsense"),
            1,
            "CommandError: “nonsense” is not an IP address.",
        ),
        (("loginlimit_purge", "--days", "many"), 2, "invalid int value: 'many'"),
    ],
)
def test_cli_errors_exit_non_zero_with_a_message(site_database, args, code, message):
    result = cli(*args, database=site_database)
    assert result.returncode == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr
