"""Django system checks: invalid `WAGTAIL_LOGINLIMIT` values and missing axes
wiring are reported with stable ids and a hint that says what to write."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.checks import Error, Warning, run_checks
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from wagtail.admin.forms.auth import LoginForm

from wagtail_loginlimit.backends import LoginLimitBackend
from wagtail_loginlimit.forms import LoginLimitFormMixin
from wagtail_loginlimit.responses import axes_lockout_response

BACKEND = "wagtail_loginlimit.backends.LoginLimitBackend"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
AXES_MIDDLEWARE = "axes.middleware.AxesMiddleware"


class SiteBackend(LoginLimitBackend):
    """A site's own subclass of the backend."""


class SiteLoginForm(LoginLimitFormMixin, LoginForm):
    """A site's own login form with the mixin."""


def ours():
    """The plugin's messages among all system checks, by id."""
    found = {}
    for message in run_checks():
        if (message.id or "").startswith("wagtail_loginlimit."):
            found.setdefault(message.id, []).append(message)
    return found


def test_correct_wiring_reports_nothing():
    assert ours() == {}
    call_command("check")  # raises SystemCheckError on any error


WIRING = [
    # id, what is changed, words of the message, words of the hint
    (
        "wagtail_loginlimit.E003",
        {"AUTHENTICATION_BACKENDS": [MODEL_BACKEND]},
        "not in AUTHENTICATION_BACKENDS",
        f"Put '{BACKEND}' first in AUTHENTICATION_BACKENDS",
    ),
    (
        "wagtail_loginlimit.E003",
        {"AUTHENTICATION_BACKENDS": [MODEL_BACKEND, BACKEND]},
        "so passwords are checked before a lockout can refuse them",
        f"Move '{BACKEND}' to the top of AUTHENTICATION_BACKENDS",
    ),
    (
        "wagtail_loginlimit.W001",
        {
            "AUTHENTICATION_BACKENDS": [
                BACKEND,
                "axes.backends.AxesBackend",
                MODEL_BACKEND,
            ]
        },
        "aauthenticate()",
        f"Use only '{BACKEND}'",
    ),
    (
        "wagtail_loginlimit.E004",
        {"MIDDLEWARE": [m for m in django_settings.MIDDLEWARE if m != AXES_MIDDLEWARE]},
        "'axes.middleware.AxesMiddleware' is not in MIDDLEWARE",
        "Add 'axes.middleware.AxesMiddleware' at the end of MIDDLEWARE",
    ),
    (
        "wagtail_loginlimit.E005",
        {"AXES_HANDLER": "axes.handlers.database.AxesDatabaseHandler"},
        "login limits are ignored",
        "Set AXES_HANDLER = 'wagtail_loginlimit.handler.LoginLimitHandler'",
    ),
    (
        "wagtail_loginlimit.E005",
        {"AXES_HANDLER": "axes.handlers.dummy.AxesDummyHandler"},
        "AXES_HANDLER is 'axes.handlers.dummy.AxesDummyHandler'",
        "Set AXES_HANDLER = 'wagtail_loginlimit.handler.LoginLimitHandler'",
    ),
    (
        "wagtail_loginlimit.E006",
        {"AXES_LOCKOUT_CALLABLE": None},
        "echoes the username",
        "Set AXES_LOCKOUT_CALLABLE = 'wagtail_loginlimit.responses.axes_lockout_response'",
    ),
    (
        "wagtail_loginlimit.E007",
        {
            "MIDDLEWARE": [
                m
                for m in django_settings.MIDDLEWARE
                if m != "wagtail_loginlimit.middleware.LoginLimitMiddleware"
            ]
        },
        "are not given back",
        "Add 'wagtail_loginlimit.middleware.LoginLimitMiddleware' to MIDDLEWARE",
    ),
    (
        "wagtail_loginlimit.W003",
        {"WAGTAILADMIN_USER_LOGIN_FORM": "wagtail.admin.forms.auth.LoginForm"},
        "will not say how many attempts remain",
        "Set WAGTAILADMIN_USER_LOGIN_FORM = 'wagtail_loginlimit.forms.LoginForm'",
    ),
    (
        "wagtail_loginlimit.E001",
        {"WAGTAIL_LOGINLIMIT": {"allowed_retries": 0}},
        "WAGTAIL_LOGINLIMIT['allowed_retries'] is invalid: allowed_retries must be at least 1.",
        "Fix or remove 'allowed_retries' in WAGTAIL_LOGINLIMIT",
    ),
    (
        "wagtail_loginlimit.E001",
        {"WAGTAIL_LOGINLIMIT": {"whitelist": ["10.0.0.1", "10.0.0.0/33"]}},
        "Entry 2, “10.0.0.0/33”, is not a valid IP address or CIDR range.",
        "Fix or remove 'whitelist' in WAGTAIL_LOGINLIMIT",
    ),
    (
        "wagtail_loginlimit.E001",
        {"WAGTAIL_LOGINLIMIT": "on"},
        "must be a dict, True or False, not str",
        "Fix or remove 'WAGTAIL_LOGINLIMIT' in WAGTAIL_LOGINLIMIT",
    ),
]


@pytest.mark.parametrize(("check_id", "changes", "message", "hint"), WIRING)
def test_wiring_mistakes_are_reported(settings, check_id, changes, message, hint):
    for name, value in changes.items():
        setattr(settings, name, value)
    found = ours()
    assert list(found) == [check_id]
    [reported] = found[check_id]
    assert message in reported.msg
    assert hint in reported.hint
    expected_level = Error if check_id.split(".")[1].startswith("E") else Warning
    assert isinstance(reported, expected_level)


def test_a_subclass_of_the_backend_counts_as_wired(settings):
    settings.AUTHENTICATION_BACKENDS = [
        "tests.test_checks.SiteBackend",
        MODEL_BACKEND,
    ]
    settings.WAGTAILADMIN_USER_LOGIN_FORM = "tests.test_checks.SiteLoginForm"
    assert ours() == {}


def test_the_lockout_callable_may_be_given_as_the_function(settings):
    settings.AXES_LOCKOUT_CALLABLE = axes_lockout_response
    assert ours() == {}


def test_a_missing_login_form_setting_is_reported(settings):
    del settings.WAGTAILADMIN_USER_LOGIN_FORM
    assert list(ours()) == ["wagtail_loginlimit.W003"]


def test_one_error_per_invalid_key(settings):
    settings.WAGTAIL_LOGINLIMIT = {
        "allowed_retries": "four",
        "lockout_method": "mac",
        "lockout_duration": 600,  # valid: not reported
    }
    errors = ours()["wagtail_loginlimit.E001"]
    assert sorted(e.obj for e in errors) == ["WAGTAIL_LOGINLIMIT"] * 2
    assert [
        ("allowed_retries" in e.msg, "lockout_method" in e.msg) for e in errors
    ] == [
        (True, False),
        (False, True),
    ]


def test_errors_fail_manage_py_check(settings):
    settings.AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
    with pytest.raises(SystemCheckError) as caught:
        call_command("check")
    assert "wagtail_loginlimit.E005" in str(caught.value)
    assert "HINT: Set AXES_HANDLER" in str(caught.value)


@pytest.mark.parametrize("app", ["axes", "wagtail.contrib.settings"])
def test_missing_app(monkeypatch, app):
    # The check reads the setting; overriding INSTALLED_APPS through
    # override_settings would also rebuild the app registry without that app,
    # which unloads models other tests of this session still use.
    monkeypatch.setattr(
        django_settings,
        "INSTALLED_APPS",
        [a for a in django_settings.INSTALLED_APPS if a != app],
    )
    [reported] = ours()["wagtail_loginlimit.E002"]
    assert f"{app!r} is not in INSTALLED_APPS" in reported.msg
    assert (
        f"Add {app!r} to INSTALLED_APPS, before 'wagtail_loginlimit'" in reported.hint
    )


def test_sqlite_without_immediate_transactions(monkeypatch):
    # An extra alias, added only to what the check reads: overriding DATABASES
    # would not reconnect Django's connections anyway.
    databases = {
        **django_settings.DATABASES,
        "reports": {"ENGINE": "django.db.backends.sqlite3", "NAME": "reports.db"},
    }
    monkeypatch.setattr(django_settings, "DATABASES", databases)
    [reported] = ours()["wagtail_loginlimit.W004"]
    assert "'reports' is SQLite without IMMEDIATE transactions" in reported.msg
    assert '"transaction_mode": "IMMEDIATE"' in reported.hint


def test_other_databases_are_not_sqlite_checked(monkeypatch):
    databases = {
        **django_settings.DATABASES,
        "pg": {"ENGINE": "django.db.backends.postgresql", "NAME": "x"},
    }
    monkeypatch.setattr(django_settings, "DATABASES", databases)
    assert ours() == {}


@pytest.mark.parametrize(
    ("proxy_settings", "expected"),
    [
        ({}, set()),
        (
            {
                "AXES_IPWARE_META_PRECEDENCE_ORDER": [
                    "HTTP_X_FORWARDED_FOR",
                    "REMOTE_ADDR",
                ]
            },
            {"wagtail_loginlimit.W005"},
        ),
        (
            {
                "AXES_IPWARE_META_PRECEDENCE_ORDER": [
                    "HTTP_X_FORWARDED_FOR",
                    "REMOTE_ADDR",
                ],
                "AXES_IPWARE_PROXY_COUNT": 0,
            },
            {"wagtail_loginlimit.W006"},
        ),
        (
            {
                "AXES_IPWARE_META_PRECEDENCE_ORDER": [
                    "HTTP_X_FORWARDED_FOR",
                    "REMOTE_ADDR",
                ],
                "AXES_IPWARE_PROXY_COUNT": 0,
                "IPWARE_STRICT": False,
            },
            set(),
        ),
        (
            {
                "AXES_IPWARE_META_PRECEDENCE_ORDER": [
                    "HTTP_X_FORWARDED_FOR",
                    "REMOTE_ADDR",
                ],
                "AXES_IPWARE_PROXY_TRUSTED_IPS": ["10.0.0.0/24"],
                "IPWARE_STRICT": False,
            },
            set(),
        ),
    ],
)
def test_proxy_settings_that_let_clients_choose_their_ip_are_reported(
    settings, proxy_settings, expected
):
    for name, value in proxy_settings.items():
        setattr(settings, name, value)
    from wagtail_loginlimit.checks import check_proxy_settings

    assert {message.id for message in check_proxy_settings()} == expected


# --- `manage.py check` in a project of its own (issue 12, item 10) ---------------


def manage_py_check(tmp_path, settings_text: str) -> subprocess.CompletedProcess:
    """`django-admin check` with a settings module written for the test, in a
    fresh process (a missing app cannot be taken out of a loaded registry)."""
    (tmp_path / "project_settings.py").write_text(settings_text)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project_settings",
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(Path.cwd())]),
    }
    return subprocess.run(  # noqa: S603 (our own interpreter and arguments)
        [sys.executable, "-m", "django", "check"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )


WITHOUT_AXES = """
from tests.settings import *  # noqa
INSTALLED_APPS = [a for a in INSTALLED_APPS if a != "axes"]
ROOT_URLCONF = "wagtail.admin.urls"
"""


def test_without_axes_check_says_so_with_an_id(tmp_path):
    """Only the app is added (the first step of installing): a system check."""
    done = manage_py_check(
        tmp_path,
        WITHOUT_AXES
        + """
MIDDLEWARE = [m for m in MIDDLEWARE if "axes" not in m and "loginlimit" not in m]
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
""",
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "(wagtail_loginlimit.E002) 'axes' is not in INSTALLED_APPS." in done.stderr
    assert "HINT: Add 'axes' to INSTALLED_APPS" in done.stderr


def stopped_at_start_up(done) -> str:
    """The ImproperlyConfigured line a failed `manage.py check` ended with
    (the plugin's own message, not a RuntimeError from Django's loading)."""
    assert done.returncode == 1
    assert "RuntimeError" not in done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("django.core.exceptions.ImproperlyConfigured: ")
    return last


def test_without_axes_but_with_its_middleware_the_error_names_the_fix(tmp_path):
    """Django's own checks import every middleware, and axes' cannot load
    without its app: the plugin stops first, with the same id and hint."""
    last = stopped_at_start_up(manage_py_check(tmp_path, WITHOUT_AXES))
    assert "wagtail_loginlimit.E002: 'axes' is not in INSTALLED_APPS" in last
    assert "HINT: Add 'axes' to INSTALLED_APPS, before 'wagtail_loginlimit'." in last


def test_the_users_app_without_the_plugin_names_the_fix(tmp_path):
    """`users_app.UsersAppConfig` (forget devices on the user edit screen)
    without `wagtail_loginlimit` in INSTALLED_APPS: stopped at start-up with
    an id and a hint, not a RuntimeError from the admin's URLs."""
    done = manage_py_check(
        tmp_path,
        """
from tests.settings import *  # noqa
INSTALLED_APPS = [a for a in INSTALLED_APPS if a != "wagtail_loginlimit"]
""",
    )
    last = stopped_at_start_up(done)
    assert "wagtail_loginlimit.E008:" in last
    assert "HINT: Add 'wagtail_loginlimit' to INSTALLED_APPS" in last


def test_an_invalid_value_is_reported_once(tmp_path):
    done = manage_py_check(
        tmp_path,
        """
from tests.settings import *  # noqa
WAGTAIL_LOGINLIMIT = {"lockout_method": "mac"}
LOGGING = {
    "version": 1,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"wagtail_loginlimit": {"handlers": ["console"], "level": "INFO"}},
}
""",
    )
    assert "wagtail_loginlimit.E001" in done.stderr
    assert done.stderr.count("'mac'") == 1, done.stderr


def _cache(backend):
    return {"default": {"BACKEND": f"django.core.cache.backends.{backend}"}}


@pytest.fixture
def default_cache(settings):
    """The database store with `cache_alias` at its default, in every env (the
    redis env names a Redis cache of its own)."""
    settings.WAGTAIL_LOGINLIMIT = {"store": "database", "cache_alias": "default"}


def test_a_dummy_cache_for_the_challenge_is_reported(settings, default_cache):
    """A dummy cache forgets used answers: one solved challenge would let
    every login through for its 10 minutes."""
    settings.CACHES = _cache("dummy.DummyCache")
    [reported] = ours()["wagtail_loginlimit.W035"]
    assert "one solved challenge lets every login through it" in reported.msg
    assert "cache every process shares" in reported.hint


def test_a_local_memory_cache_is_reported_by_the_deploy_check_only(
    settings, default_cache
):
    settings.CACHES = _cache("locmem.LocMemCache")
    assert "wagtail_loginlimit.W036" not in ours()
    deploy = [
        message
        for message in run_checks(include_deployment_checks=True)
        if message.id == "wagtail_loginlimit.W036"
    ]
    assert len(deploy) == 1
    assert "one per process" in deploy[0].msg


def test_a_shared_cache_for_the_challenge_is_not_reported(settings, default_cache):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "loginlimit_cache",
        }
    }
    found = {m.id for m in run_checks(include_deployment_checks=True)}
    assert not found & {"wagtail_loginlimit.W035", "wagtail_loginlimit.W036"}


def test_the_challenge_cache_is_the_one_cache_alias_names(settings):
    settings.CACHES = {
        **_cache("locmem.LocMemCache"),
        "attempts": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"},
    }
    settings.WAGTAIL_LOGINLIMIT = {"store": "database", "cache_alias": "attempts"}
    assert "wagtail_loginlimit.W035" in ours()
