"""`WAGTAIL_LOGINLIMIT`: code fixes values over the admin's; `False` turns the
plugin off; `True` or absent leaves everything to the admin; invalid values are
reported clearly and fall back to the defaults, never a 500."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext

from tests.conftest import PASSWORD
from tests.helpers import fail
from wagtail_loginlimit import code_settings, defaults
from wagtail_loginlimit.conf import get_config
from wagtail_loginlimit.models import FailureCounter, LoginLimitSettings

A = "203.0.113.7"
SETTINGS_TABLE = LoginLimitSettings._meta.db_table


def statuses(responses):
    return [r.status_code for r in responses]


# --- values fixed in code take effect ---------------------------------------------


@pytest.mark.parametrize(
    ("code", "failures", "last_status", "retry_after"),
    [
        ({"allowed_retries": 2}, 2, 429, "1200"),
        ({"allowed_retries": "2"}, 2, 429, "1200"),  # e.g. from an env variable
        ({"lockout_duration": 300}, 4, 429, "300"),
        ({"lockout_duration": timedelta(minutes=5)}, 4, 429, "300"),
        ({"lockout_duration": "300"}, 4, 429, "300"),
        ({"allowed_lockouts": 1, "long_duration": 7200}, 4, 429, "7200"),
        ({"allowed_lockouts": 1, "long_duration": timedelta(days=2)}, 4, 429, "172800"),
        ({"allowed_retries": 6}, 5, 200, None),
    ],
)
def test_code_values(settings, login, user, code, failures, last_status, retry_after):
    settings.WAGTAIL_LOGINLIMIT = code
    last = fail(login, failures)[-1]
    assert last.status_code == last_status
    assert last.get("Retry-After") == retry_after


@pytest.mark.parametrize("valid_duration", [3600, timedelta(hours=1)])
def test_code_valid_duration(settings, login, user, clock, valid_duration):
    settings.WAGTAIL_LOGINLIMIT = {"valid_duration": valid_duration}
    fail(login, 3)
    clock.shift(timedelta(hours=1))
    assert b"3 attempts remaining" in login("editor").content


def test_code_lists(settings, login, user):
    settings.WAGTAIL_LOGINLIMIT = {
        "whitelist": ["editor", "2001:db8::/32"],
        "blacklist": ["198.51.100.0/24"],
    }
    assert statuses(fail(login, 6, ip="2001:db8::7")) == [200] * 6  # trusted range
    assert login("other", ip="198.51.100.1").status_code == 403


@pytest.mark.parametrize(
    ("notify", "logged"),
    [
        ("log", True),
        ("log,email", True),
        ("email,log", True),
        ("", False),
        (None, False),
    ],
)
def test_code_lockout_notify(settings, login, user, caplog, notify, logged):
    settings.WAGTAIL_LOGINLIMIT = {"lockout_notify": notify}
    with caplog.at_level(logging.WARNING, logger="wagtail_loginlimit"):
        fail(login, 4)
    lockout_lines = [
        r for r in caplog.records if "loginlimit lockout" in r.getMessage()
    ]
    assert len(lockout_lines) == (1 if logged else 0)


def test_code_wins_over_the_admin(settings, admin_limits, login, user):
    admin_limits(allowed_retries=10, lockout_duration=60)
    settings.WAGTAIL_LOGINLIMIT = {"allowed_retries": 2}
    responses = fail(login, 2)
    assert statuses(responses) == [200, 429]
    # What code leaves open still comes from the admin.
    assert responses[-1]["Retry-After"] == "60"


def test_fixed_keys_are_what_code_sets():
    code = code_settings.CodeSettings(
        {"allowed_retries": 2, "retention_days": 30, "bogus": 1}
    )
    # retention_days is code-only (no panel field); an invalid key fixes nothing.
    assert code.fixed_keys == {"allowed_retries"}
    assert code_settings.CodeSettings(False).fixed_keys == set(defaults.PANEL)
    assert code_settings.CodeSettings(True).fixed_keys == set()
    assert code_settings.CodeSettings(None).fixed_keys == set()


# --- False / True / absent ---------------------------------------------------------


def test_false_turns_the_plugin_off(settings, admin_limits, login, user, hasher_calls):
    admin_limits(enabled=True, allowed_retries=1, blacklist=[A])
    settings.WAGTAIL_LOGINLIMIT = False
    responses = fail(login, 8)
    assert statuses(responses) == [200] * 8
    assert not any(b"remaining" in r.content for r in responses)
    assert not FailureCounter.objects.exists()
    before = hasher_calls()
    assert login("editor", password=PASSWORD).status_code == 302
    assert hasher_calls() > before


@pytest.mark.parametrize("code", [True, "absent"])
def test_true_or_absent_leaves_everything_to_the_admin(
    settings, admin_limits, login, user, code
):
    if code == "absent":
        if hasattr(settings, "WAGTAIL_LOGINLIMIT"):
            del settings.WAGTAIL_LOGINLIMIT
    else:
        settings.WAGTAIL_LOGINLIMIT = code
    admin_limits(allowed_retries=2, lockout_duration=120)
    responses = fail(login, 2)
    assert statuses(responses) == [200, 429]
    assert responses[-1]["Retry-After"] == "120"
    assert code_settings.code_settings().fixed_keys == set()
    assert code_settings.code_settings().errors == {}


# --- invalid values: clear errors, defaults used, no 500 ---------------------------

INVALID = [
    # WAGTAIL_LOGINLIMIT, the key reported, words the message must contain
    ({"allowed_retries": 0}, "allowed_retries", "allowed_retries must be at least 1"),
    (
        {"allowed_retries": "many"},
        "allowed_retries",
        "must be a whole number, not 'many'",
    ),
    ({"allowed_retries": True}, "allowed_retries", "must be a whole number"),
    ({"allowed_lockouts": -1}, "allowed_lockouts", "must be at least 1"),
    ({"lockout_duration": 0}, "lockout_duration", "at least 1"),
    ({"lockout_duration": -5}, "lockout_duration", "at least 1"),
    ({"lockout_duration": 1.5}, "lockout_duration", "number of seconds or a timedelta"),
    ({"lockout_duration": "20 minutes"}, "lockout_duration", "not '20 minutes'"),
    (
        {"long_duration": timedelta(milliseconds=1500)},
        "long_duration",
        "whole number of seconds",
    ),
    (
        {"lockout_method": "mac"},
        "lockout_method",
        "must be one of ip, username, ip_and_username, ip_or_username, not 'mac'",
    ),
    ({"whitelist": ["10.0.0.0/33"]}, "whitelist", "Entry 1, “10.0.0.0/33”"),
    ({"whitelist": [10]}, "whitelist", "Each entry must be text"),
    ({"blacklist": ["editor"]}, "blacklist", "“editor”, is not a valid IP address"),
    ({"lockout_notify": "sms"}, "lockout_notify", "not 'sms'"),
    ({"lockout_notify": ["log"]}, "lockout_notify", "must be text such as 'log,email'"),
    ({"enabled": "yes"}, "enabled", "must be True or False, not 'yes'"),
    ({"ipv6_prefix": 200}, "ipv6_prefix", "between 1 and 128"),
    (
        {"alowed_retries": 2},
        "alowed_retries",
        "Unknown key 'alowed_retries'; known keys: enabled, allowed_retries",
    ),
    # Beyond the maximum: refused, not an OverflowError at every login.
    ({"lockout_duration": 10**15}, "lockout_duration", "can be at most 3650 days"),
    ({"long_duration": 3650 * 86400 + 1}, "long_duration", "at most 3650 days"),
    ({"valid_duration": timedelta.max}, "valid_duration", "at most 3650 days"),
    ({"progressive_delay": "yes"}, "progressive_delay", "must be True or False"),
    (
        {"progressive_delay_base": 60, "progressive_delay_max": 10},
        "progressive_delay_max",
        "must be at least its first one",
    ),
    ("yes", "WAGTAIL_LOGINLIMIT", "must be a dict, True or False, not str"),
    (["allowed_retries", 2], "WAGTAIL_LOGINLIMIT", "not list"),
    (
        {"lockout_duration": 7200, "valid_duration": 3600},
        "valid_duration",
        "make this longer than the lockout duration",
    ),
]


@pytest.mark.parametrize(("code", "key", "words"), INVALID)
def test_invalid_value_is_reported(settings, caplog, code, key, words):
    settings.WAGTAIL_LOGINLIMIT = code
    with caplog.at_level(logging.ERROR, logger="wagtail_loginlimit"):
        errors = code_settings.code_settings().errors
    assert list(errors) == [key]
    message = " ".join(errors[key].messages)
    assert words in message
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(logged) == 1
    assert f"WAGTAIL_LOGINLIMIT[{key!r}] is invalid and ignored" in logged[0]
    assert words in logged[0]


@pytest.mark.parametrize(("code", "key", "words"), INVALID[:-1])
def test_invalid_value_falls_back_to_the_default(
    settings, login, user, code, key, words
):
    """The login page keeps working with the default rules: 4 tries, 20 minutes."""
    settings.WAGTAIL_LOGINLIMIT = code
    responses = fail(login, 4)
    assert statuses(responses) == [200, 200, 200, 429]
    assert b"3 attempts remaining" in responses[0].content
    assert responses[-1]["Retry-After"] == "1200"


def test_a_valid_window_shorter_than_the_lockout_is_ignored(
    settings, login, user, clock
):
    """The value reported as invalid is really ignored: the default 12-hour
    window is used, not a stretched version of the bad one."""
    settings.WAGTAIL_LOGINLIMIT = {"lockout_duration": 7200, "valid_duration": 3600}
    assert get_config().valid_duration == timedelta(hours=12)
    assert code_settings.code_settings().fixed_keys == {"lockout_duration"}
    fail(login, 3)
    clock.shift(timedelta(hours=5))
    assert statuses(fail(login, 1)) == [429]  # the 3 failures still count


def test_invalid_values_do_not_drop_the_valid_ones(settings, login, user):
    settings.WAGTAIL_LOGINLIMIT = {"allowed_retries": 2, "lockout_duration": "soon"}
    responses = fail(login, 2)
    assert statuses(responses) == [200, 429]
    assert responses[-1]["Retry-After"] == "1200"  # the default, not "soon"


def test_inconsistent_code_and_admin_values_keep_long_lockouts_reachable(
    settings, admin_limits, login, user, clock
):
    """Code makes the lockout longer than the admin's valid window: the count
    is still kept long enough for a repeat offender to reach the long lockout."""
    admin_limits(valid_duration=3600, lockout_duration=600, allowed_lockouts=2)
    settings.WAGTAIL_LOGINLIMIT = {"lockout_duration": 7200}
    assert fail(login, 4)[-1]["Retry-After"] == "7200"
    clock.shift(timedelta(hours=2))
    assert fail(login, 4)[-1]["Retry-After"] == "86400"


# --- parse_value: what code may write ----------------------------------------------


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (1200, 1200),
        ("1200", 1200),
        (" 90 ", 90),
        (timedelta(minutes=20), 1200),
        (timedelta(days=1), 86400),
        (1, 1),
        (timedelta(days=3650), 315360000),  # the maximum
    ],
)
def test_durations_as_seconds_or_timedelta(value, seconds):
    assert code_settings.parse_value("lockout_duration", value) == timedelta(
        seconds=seconds
    )


@pytest.mark.parametrize("value", [0, -1, True, 1.5, "1.5", None, timedelta(0), "P1D"])
def test_bad_durations(value):
    with pytest.raises(ValidationError):
        code_settings.parse_value("valid_duration", value)


@pytest.mark.parametrize(
    ("value", "channels"),
    [
        ("", ()),
        ("log", ("log",)),
        ("email", ("email",)),
        ("email, log", ("log", "email")),
    ],
)
def test_lockout_notify_values(value, channels):
    assert code_settings.parse_value("lockout_notify", value) == channels


@pytest.mark.parametrize("value", ["log,log", "log;email", "sms", 1])
def test_bad_lockout_notify(value):
    with pytest.raises(ValidationError):
        code_settings.parse_value("lockout_notify", value)


# --- reading the settings costs at most one query, and only on logins -------------


def settings_queries(queries) -> int:
    return sum(SETTINGS_TABLE in q["sql"] for q in queries)


def test_a_login_reads_the_settings_with_one_query(admin_limits, login, user):
    admin_limits(allowed_retries=4)  # the row exists, as after the first save
    with CaptureQueriesContext(connection) as failed:
        login("editor")
    with CaptureQueriesContext(connection) as succeeded:
        login("editor", password=PASSWORD)
    assert settings_queries(failed.captured_queries) == 1
    assert settings_queries(succeeded.captured_queries) == 1


def test_other_requests_do_not_read_the_settings(admin_limits, client, user):
    admin_limits(allowed_retries=4)
    with CaptureQueriesContext(connection) as queries:
        client.get("/", REMOTE_ADDR=A)
        client.get("/admin/password_reset/", REMOTE_ADDR=A)
    assert settings_queries(queries.captured_queries) == 0


def test_opening_a_login_page_reads_the_settings_once(admin_limits, client, user):
    """A GET of a login page looks whether the IP is locked out (so that the
    page can say so at once): one read of the settings, no more."""
    admin_limits(allowed_retries=4)
    for path in ("/admin/login/", "/accounts/login/"):
        with CaptureQueriesContext(connection) as queries:
            client.get(path, REMOTE_ADDR=A)
        assert settings_queries(queries.captured_queries) == 1


def test_settings_fixed_in_code_cost_no_query(settings, login, user):
    settings.WAGTAIL_LOGINLIMIT = dict(defaults.PANEL)
    with CaptureQueriesContext(connection) as queries:
        login("editor")
    assert settings_queries(queries.captured_queries) == 0


def test_config_is_read_once_per_request_and_parsed_once(admin_limits, db):
    admin_limits(allowed_retries=3)
    request = RequestFactory().post("/admin/login/")
    with CaptureQueriesContext(connection) as queries:
        first = get_config(request)
        second = get_config(request)
    assert first is second
    assert first.allowed_retries == 3
    assert settings_queries(queries.captured_queries) == 1
    # Another request with the same stored values reuses the parsed config.
    assert get_config(RequestFactory().post("/admin/login/")) is first


# --- a duration too large for a date is an error, not a crash ----------------------


def test_a_huge_duration_fails_manage_py_check_with_e001(settings, login, user):
    settings.WAGTAIL_LOGINLIMIT = {"lockout_duration": 10**15}
    with pytest.raises(SystemCheckError) as caught:
        call_command("check")
    assert "wagtail_loginlimit.E001" in str(caught.value)
    assert "lockout_duration can be at most 3650 days" in str(caught.value)
    assert get_config().lockout_duration == timedelta(minutes=20)
    assert fail(login, 4)[-1]["Retry-After"] == "1200"
