"""No race gets past the limit: real servers, real processes, real PostgreSQL.

The sandbox runs under gunicorn with 4 worker processes (and, in some cases, a
second gunicorn on another port sharing the database, or the counters in a
real Redis). 50 clients each fetch the login page (for their CSRF cookie and
token), wait at a barrier, and post a wrong password at the same moment. With
`allowed_retries = 4`, at most 4 of those requests may reach the password check
and exactly one lockout may be recorded; every other request is refused.

Password checks are counted by the servers' hasher (`tests/race_settings.py`):
Django's PBKDF2 hasher at full cost, appending one byte per hash or check to a
file that all the worker processes share. Nothing here is mocked.

PostgreSQL and Redis come from tests/services.py: a missing server skips these
tests locally and fails them under CI=true. They need those servers whatever
store the run tests, so they run only with LOGINLIMIT_TEST_STORE=postgres (once
per CI run, in tox's `postgres` env) and are deselected in every other run
(tests/conftest.py).
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
import requests

from benchmarks.databases import PostgresDatabases
from benchmarks.servers import GunicornServer

SETTINGS = "tests.race_settings"
ALLOWED_RETRIES = 4
REQUESTS = 50
WORKERS = 4
USERNAME = "editor"
PASSWORD = "race-Password-1"  # the account's; never sent below
LOGIN = "/admin/login/"
# Every wait is bounded: a hung server fails the test instead of hanging it.
TIMEOUT = 90
REDIS_DB = 7  # a database of the session's Redis that no other test uses

PREPARE = f"""
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
from django.contrib.auth import get_user_model
get_user_model().objects.create_user({USERNAME!r}, password={PASSWORD!r})
"""
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(scope="module")
def race_databases(postgres_server):
    """Fresh copies of a migrated PostgreSQL database with one account."""
    databases = PostgresDatabases(
        postgres_server.url, settings_module=SETTINGS, prepare_code=PREPARE
    )
    try:
        databases.prepare()
        yield databases
    finally:
        databases.close()


@pytest.fixture
def servers(request):
    """Start gunicorn servers; all of them are stopped when the test ends."""
    started: list[GunicornServer] = []

    def start(count: int, env: dict[str, str]) -> list[GunicornServer]:
        started.extend(
            GunicornServer(SETTINGS, env, workers=WORKERS) for _ in range(count)
        )
        GunicornServer.start_all(started)
        return started

    yield start
    GunicornServer.stop_all(started)
    for server in started:
        server.close()


@pytest.fixture
def redis_url(redis_server):
    """A Redis database of its own for this test, emptied first."""
    import redis

    url = urlunsplit(urlsplit(redis_server.url)._replace(path=f"/{REDIS_DB}"))
    client = redis.Redis.from_url(url)
    try:
        client.flushdb()
    finally:
        client.close()
    return url


class Client:
    """One attacker: its own session (CSRF cookie), its own address."""

    def __init__(self, url: str, address: str | None) -> None:
        self.url = url
        self.headers = {"X-Forwarded-For": address} if address else {}
        self.session = requests.Session()
        self.token = ""
        self.status: int | None = None
        self.error: BaseException | None = None

    def get_token(self) -> None:
        page = self.session.get(f"{self.url}{LOGIN}", timeout=TIMEOUT)
        page.raise_for_status()
        self.token = TOKEN.search(page.text).group(1)

    def post_wrong_password(self, barrier: threading.Barrier) -> None:
        try:
            barrier.wait(timeout=TIMEOUT)
            response = self.session.post(
                f"{self.url}{LOGIN}",
                data={
                    "csrfmiddlewaretoken": self.token,
                    "username": USERNAME,
                    "password": "wrong-password",
                },
                headers=self.headers,
                allow_redirects=False,
                timeout=TIMEOUT,
            )
            self.status = response.status_code
        except BaseException as error:  # reported by the test, not lost in a thread
            self.error = error
        finally:
            self.session.close()


def attack(urls: list[str], addresses: list[str | None]) -> Counter:
    """Send one wrong password per address at the same moment, spread over
    `urls` in turn; the HTTP statuses that came back."""
    clients = [
        Client(urls[index % len(urls)], address)
        for index, address in enumerate(addresses)
    ]
    for client in clients:
        client.get_token()
    barrier = threading.Barrier(len(clients))
    threads = [
        threading.Thread(target=client.post_wrong_password, args=(barrier,))
        for client in clients
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=TIMEOUT)
    assert not any(thread.is_alive() for thread in threads), "a request hung"
    errors = [client.error for client in clients if client.error]
    assert not errors, errors[0]
    return Counter(client.status for client in clients)


def lockouts(database_url: str) -> list[tuple]:
    import psycopg

    with psycopg.connect(database_url) as connection:
        return connection.execute(
            "SELECT scope, ip_group, username, failure_count "
            "FROM wagtail_loginlimit_lockout"
        ).fetchall()


SCENARIOS = {
    # id: (lockout method, one address for all or one each, servers, Redis?)
    "ip-one-address-one-server": ("ip", False, 1, False),
    "username-50-addresses-one-server": ("username", True, 1, False),
    "ip-one-address-two-servers": ("ip", False, 2, False),
    "username-50-addresses-two-servers": ("username", True, 2, False),
    "ip-one-address-two-servers-redis": ("ip", False, 2, True),
    "username-50-addresses-two-servers-redis": ("username", True, 2, True),
}


@pytest.mark.parametrize(
    ("method", "many_addresses", "server_count", "on_redis"),
    list(SCENARIOS.values()),
    ids=list(SCENARIOS),
)
def test_simultaneous_wrong_passwords_get_no_more_checks_than_allowed(
    request, race_databases, servers, tmp_path: Path, method, many_addresses,
    server_count, on_redis,
):  # fmt: skip
    database_url = race_databases.fresh()
    hasher_log = tmp_path / "password-checks"
    env = {
        "DATABASE_URL": database_url,
        "LOGINLIMIT_ALLOWED_RETRIES": str(ALLOWED_RETRIES),
        "LOGINLIMIT_LOCKOUT_METHOD": method,
        "LOGINLIMIT_HASHER_LOG": str(hasher_log),
    }
    if on_redis:
        env["LOGINLIMIT_RACE_REDIS_URL"] = request.getfixturevalue("redis_url")
    urls = [server.url for server in servers(server_count, env)]
    # From the loopback address itself, or each through the trusted proxy
    # header from an address of its own (TEST-NET-3).
    addresses = [
        f"203.0.113.{n + 1}" if many_addresses else None for n in range(REQUESTS)
    ]

    statuses = attack(urls, addresses)

    checks = hasher_log.stat().st_size if hasher_log.exists() else 0
    records = lockouts(database_url)
    assert set(statuses) <= {200, 429}, statuses  # no CSRF failure, no 500
    assert checks <= ALLOWED_RETRIES, (
        f"{checks} password checks for {REQUESTS} simultaneous requests; "
        f"statuses {dict(statuses)}"
    )
    assert len(records) == 1, records
    scope, ip_group, username, failure_count = records[0]
    # The one lockout came from exactly the allowed failures, each of which had
    # its password checked once: the counting hasher did count them.
    assert failure_count == ALLOWED_RETRIES == checks
    assert scope == method
    if method == "ip":
        assert ip_group == "127.0.0.1"
    else:
        assert username == USERNAME
    # The 4th failure answers with the lockout page; the others were refused.
    assert statuses[200] == ALLOWED_RETRIES - 1
    assert statuses[429] == REQUESTS - ALLOWED_RETRIES + 1
