"""Logins while the store is down: real servers stopped in the middle of a test
(or a port where nothing listens), then started again. No mocks.

`on_store_error = "refuse"` (the default): HTTP 503 "temporarily unavailable",
no password checked. `"allow"`: the login goes on without limits. Either way one
ERROR line on `wagtail_loginlimit.store`, no traceback, never a 500, and the
counts go on where they were once the server is back.
"""

from __future__ import annotations

import http.cookiejar
import logging
import os
import re
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.parse
import urllib.request
from html import unescape
from pathlib import Path

import pytest
from django.core.cache import caches
from django.db import connection

from tests import services
from tests.conftest import PASSWORD

REPO = Path(__file__).resolve().parent.parent
A = "203.0.113.7"
ALIAS = "outage"
UNAVAILABLE = "Signing in is temporarily unavailable"
STORE_LOGGER = "wagtail_loginlimit.store"


def store_errors(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == STORE_LOGGER]


def assert_one_clear_line(caplog, *words: str) -> None:
    [record] = store_errors(caplog)
    assert record.levelno == logging.ERROR
    assert record.exc_info is None, "a traceback in the log"
    message = record.getMessage()
    assert "\n" not in message
    for word in words:
        assert word in message
    caplog.clear()


def remaining(response) -> int | None:
    found = re.findall(r"(\d+) attempts? remaining", response.content.decode())
    return int(found[0]) if found else None


@pytest.fixture
def redis_outage(settings):
    """A private Redis, with an append-only file so that its data survive a
    restart (as a production Redis's should), holding the counters."""
    try:
        server = services.RedisServer(persistent=True)
    except services.ServiceMissing as error:
        services.missing(error)
    with server:
        settings.CACHES = {
            **settings.CACHES,
            ALIAS: {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": server.url,
                "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
            },
        }
        settings.WAGTAIL_LOGINLIMIT = {"store": "cache", "cache_alias": ALIAS}
        yield server


def test_redis_down_refuses_logins_with_503_and_counts_resume(
    redis_outage, login, user, hasher_calls, caplog
):
    for _ in range(3):
        response = login("editor", ip=A)
    assert remaining(response) == 1
    checked = hasher_calls()

    redis_outage.stop()
    caplog.set_level(logging.ERROR, logger=STORE_LOGGER)
    for password in ("wrong", PASSWORD):
        response = login("editor", password=password, ip=A)
        assert response.status_code == 503
        assert UNAVAILABLE in response.content.decode()
        assert response["Retry-After"] == "30"
        assert response["Cache-Control"] == "no-store"
        assert_one_clear_line(caplog, "cache store", "login refused")
    assert hasher_calls() == checked, "a password was checked without limits"

    redis_outage.start()
    # The 4th failure: the count went on from before the outage.
    assert login("editor", ip=A).status_code == 429
    assert login("editor", password=PASSWORD, ip=A).status_code == 429
    assert store_errors(caplog) == []


def test_redis_down_gives_api_clients_json(redis_outage, login, db):
    redis_outage.stop()
    response = login("editor", ip=A, HTTP_ACCEPT="application/json")
    assert response.status_code == 503
    assert response.json() == {
        "detail": f"{UNAVAILABLE}. Please try again in a few minutes.",
        "retry_after": 30,
    }


def test_redis_down_with_allow_lets_logins_through_unprotected(
    settings, redis_outage, login, user, caplog
):
    settings.WAGTAIL_LOGINLIMIT = {
        "store": "cache",
        "cache_alias": ALIAS,
        "on_store_error": "allow",
    }
    for _ in range(2):
        login("editor", ip=A)

    redis_outage.stop()
    caplog.set_level(logging.ERROR, logger=STORE_LOGGER)
    response = login("editor", ip=A)
    assert response.status_code == 200
    assert "didn't match" in unescape(response.content.decode())
    assert remaining(response) is None  # nothing was counted, nothing is promised
    assert_one_clear_line(caplog, "cache store", "login allowed without limits")

    response = login("editor", password=PASSWORD, ip=A)
    assert response.status_code == 302
    assert_one_clear_line(caplog, "login allowed without limits")
    login("editor", ip=A)  # unprotected failures are not counted
    caplog.clear()

    redis_outage.start()
    client_two = login("other", ip=A)
    assert remaining(client_two) == 1, "the count did not resume where it was"
    assert store_errors(caplog) == []


def test_a_redis_nobody_listens_on_refuses_logins(settings, login, db, caplog):
    settings.CACHES = {
        **settings.CACHES,
        ALIAS: {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{services.free_port()}/0",
        },
    }
    settings.WAGTAIL_LOGINLIMIT = {"store": "cache", "cache_alias": ALIAS}
    caplog.set_level(logging.ERROR, logger=STORE_LOGGER)
    response = login("editor", ip=A)
    assert response.status_code == 503
    assert_one_clear_line(caplog, "cache store", "ConnectionError")
    caches[ALIAS].close()


# --- the database store on PostgreSQL, with PostgreSQL stopped ---
#
# The site runs in its own process (Django's runserver) on its own PostgreSQL,
# so that the server can go away under it while this process keeps its test
# database. It takes a migrate on a new PostgreSQL (about 20 s), so it runs in
# the `postgres` run only.

OUTAGE_SETTINGS = """
from tests.settings import *  # noqa

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"format": "%(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "line"}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
    "loggers": {"wagtail_loginlimit": {"level": "WARNING"}},
}
"""


class Site:
    """The test site under runserver, and a browser-like client for it."""

    def __init__(self, directory: Path, database_url: str) -> None:
        (directory / "outage_settings.py").write_text(textwrap.dedent(OUTAGE_SETTINGS))
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("LOGINLIMIT_") and key != "DJANGO_SETTINGS_MODULE"
        }
        self.env.update(
            {
                "PYTHONPATH": os.pathsep.join([str(directory), str(REPO)]),
                "DJANGO_SETTINGS_MODULE": "outage_settings",
                "LOGINLIMIT_TEST_STORE": "postgres",
                "LOGINLIMIT_TEST_DATABASE_URL": database_url,
                "PYTHONUNBUFFERED": "1",
            }
        )
        self.log = directory / "site.log"
        self.port = services.free_port()
        self.process: subprocess.Popen | None = None
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies)
        )

    def django(self, *args: str) -> None:
        subprocess.run(  # noqa: S603
            [sys.executable, "-m", "django", *args],
            env=self.env,
            cwd=REPO,
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        self._log_file = self.log.open("wb")
        self.process = subprocess.Popen(  # noqa: S603
            [
                sys.executable, "-m", "django", "runserver",
                f"127.0.0.1:{self.port}", "--noreload", "--nothreading",
                "--skip-checks",
            ],
            env=self.env,
            cwd=REPO,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        services._wait_for_port(self.port, self.process, self.log)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=30)
            self._log_file.close()

    def request(self, path: str, data: dict | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(
                f"http://127.0.0.1:{self.port}{path}", body, timeout=30
            ) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def login(self, password: str = "wrong") -> tuple[int, str]:
        token = next(c.value for c in self.cookies if c.name == "csrftoken")
        return self.request(
            "/admin/login/",
            {"username": "editor", "password": password, "csrfmiddlewaretoken": token},
        )

    def log_lines(self) -> list[str]:
        return self.log.read_text(errors="replace").splitlines()


@pytest.fixture
def site_on_postgres(tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip(
            "runs in the postgres run (LOGINLIMIT_TEST_STORE=postgres): it migrates "
            "a PostgreSQL of its own"
        )
    try:
        server = services.PostgresServer()
    except services.ServiceMissing as error:
        services.missing(error)
    with server:
        site = Site(tmp_path, server.database_url("postgres"))
        site.django("migrate", "--no-input")
        site.django(
            "shell",
            "-c",
            "from django.contrib.auth import get_user_model; "
            f"get_user_model().objects.create_user('editor', password={PASSWORD!r})",
        )
        site.start()
        try:
            yield site, server
        finally:
            site.stop()


def test_postgresql_down_refuses_logins_with_503_and_counts_resume(site_on_postgres):
    site, server = site_on_postgres
    assert site.request("/admin/login/")[0] == 200  # the CSRF cookie
    for _ in range(3):
        status, page = site.login()
    assert (status, "1 attempt remaining" in page) == (200, True)

    server.stop()
    before = len(site.log_lines())
    status, page = site.login()
    assert status == 503
    assert UNAVAILABLE in page
    # Wait for the line of the request itself, the last one runserver writes.
    deadline = time.monotonic() + 10
    while not any("503" in line for line in site.log_lines()[before:]):
        assert time.monotonic() < deadline, site.log.read_text()
        time.sleep(0.05)
    lines = site.log_lines()[before:]
    # One line of ours; Django adds its usual one-line record of a 5xx.
    errors = [line for line in lines if line.startswith("ERROR wagtail_loginlimit")]
    assert len(errors) == 1, "\n".join(lines)
    assert [line for line in lines if line.startswith("ERROR django")] == [
        "ERROR django.request: Service Unavailable: /admin/login/"
    ]
    assert "the database store cannot be reached" in errors[0]
    assert "login refused" in errors[0]
    assert not any(
        "Traceback" in line or "Internal Server Error" in line for line in lines
    ), "\n".join(lines)

    server.start()
    status, page = site.login()  # the 4th failure: counted on from before
    assert status == 429, page
    assert site.login(PASSWORD)[0] == 429
