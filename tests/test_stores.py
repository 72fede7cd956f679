"""The two counter stores on real servers: the database (SQLite, or PostgreSQL in
a `LOGINLIMIT_TEST_STORE=postgres` run) and Redis through Django's cache
framework (a real `redis-server`, tests/services.py).

The whole rule suite runs against each store (`LOGINLIMIT_TEST_STORE`); this
module checks what only a store can get wrong: where the counts live, how long
Redis keeps them, unlocking through its indexes, atomicity under parallel
requests, and the system checks that refuse a cache that is not shared.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from tests.conftest import PASSWORD
from wagtail_loginlimit import policy, storage, unlocking
from wagtail_loginlimit.checks import check_configuration
from wagtail_loginlimit.clients import ACCOUNT_BUDGET, SCOPE_NETWORK, counter_keys
from wagtail_loginlimit.clients import ClientIdentity as LoginClient
from wagtail_loginlimit.models import FailureCounter, Lockout
from wagtail_loginlimit.networks import network_key
from wagtail_loginlimit.policy import Limits
from wagtail_loginlimit.storage.cache import (
    CacheStore,
    as_counter,
    longest_ttl,
    redis_client,
)
from wagtail_loginlimit.storage.checks import check_store

A = "203.0.113.7"
B = "198.51.100.9"
ALIAS = "counters"
DJANGO_REDIS = "django.core.cache.backends.redis.RedisCache"
DJANGO_REDIS_PACKAGE = "django_redis.cache.RedisCache"


def redis_cache(server, backend: str = DJANGO_REDIS, **extra) -> dict:
    # Database 3: apart from a `redis` run's own counters (database 0).
    return {"BACKEND": backend, "LOCATION": server.url[:-1] + "3", **extra}


@pytest.fixture(params=[DJANGO_REDIS, DJANGO_REDIS_PACKAGE])
def cache_backend(request):
    if request.param == DJANGO_REDIS_PACKAGE:
        pytest.importorskip("django_redis")
    return request.param


@pytest.fixture
def cache_store(settings, redis_server, cache_backend):
    """The cache store on a real Redis, through Django's own Redis cache and
    through django-redis."""
    settings.CACHES = {
        **settings.CACHES,
        ALIAS: redis_cache(redis_server, cache_backend),
    }
    settings.WAGTAIL_LOGINLIMIT = {"store": "cache", "cache_alias": ALIAS}
    caches[ALIAS].clear()
    yield CacheStore(ALIAS)
    caches[ALIAS].clear()


@pytest.fixture
def redis(cache_store):
    return redis_client(caches[ALIAS])


def keys(ip=A, username="editor", method="ip"):
    return counter_keys(LoginClient.build(ip, username), method)


def client_counters():
    """The stored counters of clients, without their networks' counters
    (`network_retries`, tests/test_networks.py)."""
    return [
        c
        for c in storage.counters()
        if c.scope != SCOPE_NETWORK and c.entry_point != ACCOUNT_BUDGET
    ]


def network_name(cache_store, ip=A) -> str:
    client = LoginClient.build(ip, None)
    key = network_key(
        client, network_retries=20, ipv4_network_prefix=24, ipv6_network_prefix=48
    )
    return cache_store.counter_name(key.digest)


# --- where the counts live ---


def test_the_cache_store_keeps_counts_in_redis_and_lockouts_in_the_database(
    cache_store, redis, login, hasher_calls, db
):
    for _ in range(4):
        login("editor", ip=A)

    response = login("editor", password=PASSWORD, ip=A)
    assert response.status_code == 429
    assert int(response["Retry-After"]) == 1200
    assert hasher_calls() == 4, "the refused login's password was checked"
    # The counter is in Redis, not in the database ...
    assert not FailureCounter.objects.exists()
    raw = redis.get(cache_store.counter_name(keys()[0].digest))
    stored = as_counter(keys()[0].digest, json.loads(raw))
    assert (stored.scope, stored.ip_group, stored.failures) == ("ip", A, 4)
    assert stored.locked_until is not None
    # ... and the lockout record, which the reports need, in the database.
    lockout = Lockout.objects.get()
    assert (lockout.ip_group, lockout.failure_count) == (A, 4)
    assert [(c.ip_group, c.failures) for c in client_counters()] == [(A, 4)]
    # The network's counter is in Redis too, with the same window.
    network = as_counter("", json.loads(redis.get(network_name(cache_store))))
    assert (network.scope, network.ip_group, network.failures) == (
        SCOPE_NETWORK,
        "203.0.113.0/24",
        4,
    )
    assert 43_190 <= redis.ttl(network_name(cache_store)) <= 43_202


def test_the_database_store_keeps_counts_in_the_database(settings, login, db):
    settings.WAGTAIL_LOGINLIMIT = {"store": "database"}
    login("editor", ip=A)
    assert FailureCounter.objects.get(scope="ip").failures == 1
    assert [(c.ip_group, c.failures) for c in client_counters()] == [(A, 1)]
    assert FailureCounter.objects.get(scope=SCOPE_NETWORK).failures == 1


def test_a_successful_login_forgets_the_count_in_redis(cache_store, redis, login, user):
    for _ in range(3):
        login("editor", ip=A)
    assert login("editor", password=PASSWORD, ip=A).status_code == 302

    assert client_counters() == []
    assert redis.get(cache_store.counter_name(keys()[0].digest)) is None
    # The network forgives the account its share too: nothing is left.
    assert storage.counters() == []
    # The next failure counts from one again.
    assert login("editor", ip=A).status_code == 200
    assert [c.failures for c in client_counters()] == [1]


def test_sites_with_their_own_key_prefix_count_apart(settings, redis_server, login, db):
    """Two sites sharing one Redis keep separate counts (KEY_PREFIX)."""
    settings.CACHES = {
        **settings.CACHES,
        "one": redis_cache(redis_server, KEY_PREFIX="one"),
        "two": redis_cache(redis_server, KEY_PREFIX="two"),
    }
    caches["one"].clear()
    settings.WAGTAIL_LOGINLIMIT = {"store": "cache", "cache_alias": "one"}
    for _ in range(4):
        login("editor", ip=A)
    assert login("editor", ip=A).status_code == 429

    settings.WAGTAIL_LOGINLIMIT = {"store": "cache", "cache_alias": "two"}
    assert login("editor", ip=A).status_code == 200
    assert [c.failures for c in client_counters()] == [1]
    caches["one"].clear()


def test_a_damaged_value_is_counted_afresh(cache_store, redis, login, db):
    redis.set(cache_store.counter_name(keys()[0].digest), b"\x80not json")
    assert login("editor", ip=A).status_code == 200
    assert [c.failures for c in client_counters()] == [1]


# A stored tally (whose accounts an IP's failures were against) that is not
# the list of [tag, count] pairs it should be: dropped, or forgiving nothing.
DAMAGED_TALLIES = [
    "not a list",
    {"tag": 2},
    [["only a tag"]],
    [[policy.account_tag("editor"), "2"]],
    [[policy.account_tag("editor"), -3]],
    [None, 7],
]


def test_a_success_forgives_only_its_share_in_redis(cache_store, redis, login, user):
    """The cache store forgives as the database does: `editor`'s two
    failures, not the other name's."""
    login("editor", ip=A)
    login("someone-else", ip=A)
    login("editor", ip=A)
    assert login("editor", password=PASSWORD, ip=A).status_code == 302
    stored = json.loads(redis.get(cache_store.counter_name(keys()[0].digest)))
    assert stored["f"] == 1
    assert stored["t"] == [[policy.account_tag("someone-else"), 1]]


@pytest.mark.parametrize("tally", DAMAGED_TALLIES)
def test_a_damaged_tally_in_redis_forgives_nothing(
    cache_store, redis, client, login, user, tally
):
    login("editor", ip=A)
    login("editor", ip=A)
    name = cache_store.counter_name(keys()[0].digest)
    stored = json.loads(redis.get(name))
    redis.set(name, json.dumps({**stored, "t": tally}), keepttl=True)
    assert login("editor", password=PASSWORD, ip=A).status_code == 302
    client.logout()
    assert [c.failures for c in client_counters()] == [2]
    assert login("editor", ip=A).status_code == 200


@pytest.mark.parametrize("tally", DAMAGED_TALLIES)
def test_a_damaged_tally_in_the_database_forgives_nothing(
    settings, client, login, user, tally
):
    settings.WAGTAIL_LOGINLIMIT = {"store": "database"}
    login("editor", ip=A)
    login("editor", ip=A)
    FailureCounter.objects.filter(scope="ip").update(tally=tally)
    assert login("editor", password=PASSWORD, ip=A).status_code == 302
    client.logout()
    assert FailureCounter.objects.get(scope="ip").failures == 2
    assert login("editor", ip=A).status_code == 200


# --- bounded: how long Redis keeps a client ---


def ttl(redis, cache_store, digest) -> int:
    return redis.ttl(cache_store.counter_name(digest))


def test_a_count_lives_as_long_as_the_valid_window(cache_store, redis, login, db):
    login("editor", ip=A)
    assert 43_190 <= ttl(redis, cache_store, keys()[0].digest) <= 43_202


def test_a_long_lockout_keeps_its_counter_until_it_ends(
    settings, cache_store, redis, login, db
):
    settings.WAGTAIL_LOGINLIMIT = {
        "store": "cache",
        "cache_alias": ALIAS,
        "allowed_lockouts": 1,  # the 4th failure is a long (24 h) lockout
    }
    for _ in range(4):
        login("editor", ip=A)
    assert Lockout.objects.get().is_long
    assert 86_390 <= ttl(redis, cache_store, keys()[0].digest) <= 86_402


def test_a_client_takes_the_same_few_keys_however_often_it_tries(
    settings, cache_store, redis, login, db
):
    """Per-client storage does not grow with attempts: one counter and its index
    entries, each with a time to live."""
    settings.WAGTAIL_LOGINLIMIT = {
        "store": "cache",
        "cache_alias": ALIAS,
        "allowed_retries": 1000,
        "network_retries": 5000,
        "lockout_method": "ip_or_username",
    }
    login("editor", ip=A)
    before = sorted(redis.keys("*"))
    sizes = {name: redis.memory_usage(name) for name in before}
    for _ in range(50):
        login("editor", ip=A)
    assert sorted(redis.keys("*")) == before
    # a counter per IP, per username and per network, and the account's
    # budget (`account_budget`) with the username index an unlock finds it
    # by; nothing else
    assert len(before) == 5
    assert {name: redis.memory_usage(name) for name in before} == sizes
    assert [c.failures for c in storage.counters()] == [51, 51, 51, 51]
    for name in before:
        assert 0 < redis.ttl(name) <= longest_ttl(Limits(allowed_retries=1000))


def test_a_try_given_back_leaves_nothing_behind(cache_store, redis, db):
    """A reserved try that is released leaves an empty state: deleted, not
    stored for the valid window."""
    now = timezone.now()
    assert storage.begin_attempt(keys(), now, Limits()).allowed
    assert [c.pending for c in storage.counters()] == [1]
    storage.release(keys(), now, Limits())
    assert storage.counters() == []
    assert redis.get(cache_store.counter_name(keys()[0].digest)) is None


# --- unlocking through the indexes ---


def test_unlocking_an_ip_or_a_username_clears_their_redis_counters(
    settings, cache_store, login, db
):
    settings.WAGTAIL_LOGINLIMIT = {
        "store": "cache",
        "cache_alias": ALIAS,
        "lockout_method": "ip_or_username",
    }
    for _ in range(4):
        login("editor", ip=A)
    login("other", ip=B)
    assert login("editor", ip=A).status_code == 429
    assert Lockout.objects.active().count() == 2  # the IP and the username

    result = unlocking.unlock(ip=A)
    assert {(c.scope, c.ip_group) for c in result.counters} == {("ip", A)}
    assert [lockout.scope for lockout in result.lockouts] == ["ip"]
    # The username is still locked out, from any address.
    assert login("editor", ip=B).status_code == 429

    unlocking.unlock(username="EDITOR")
    assert login("editor", ip=B).status_code == 200
    assert not Lockout.objects.active().exists()

    call_command("loginlimit_unlock", "--all", stdout=open_devnull())
    assert storage.counters() == []


def open_devnull():
    import io

    return io.StringIO()


def test_unlocking_a_pair_clears_only_that_pair(settings, cache_store, login, db):
    settings.WAGTAIL_LOGINLIMIT = {
        "store": "cache",
        "cache_alias": ALIAS,
        "lockout_method": "ip_and_username",
    }
    login("editor", ip=A)
    login("other", ip=A)
    login("editor", ip=B)
    unlocking.unlock(ip=A, username="editor")
    assert sorted((c.ip_group, c.username) for c in client_counters()) == sorted(
        [(A, "other"), (B, "editor")]
    )


def test_accounts_are_deactivated_with_the_cache_store_too(
    settings, cache_store, login, user
):
    """Deactivation counts from axes' failure log in the database, whatever the
    store: four failures from four addresses deactivate the account."""
    settings.WAGTAIL_LOGINLIMIT = {
        "store": "cache",
        "cache_alias": ALIAS,
        "deactivate_after": 1,
    }
    for ip in ("203.0.113.1", "203.0.113.2", "203.0.113.3", "203.0.113.4"):
        login("editor", ip=ip)
    user.refresh_from_db()
    assert not user.is_active
    assert not FailureCounter.objects.exists()


# --- atomic across processes and servers ---


def in_parallel(count: int, work):
    """Run `work()` `count` times at the same moment, each on its own thread
    (and so its own Redis or database connection, as separate processes)."""
    barrier = threading.Barrier(count)

    def run():
        barrier.wait()
        return work()

    with ThreadPoolExecutor(count) as pool:
        return [future.result() for future in [pool.submit(run) for _ in range(count)]]


@pytest.mark.parametrize("method", ["ip", "ip_or_username"])
def test_parallel_tries_cannot_overspend_the_limit_in_redis(cache_store, method, db):
    now = timezone.now()
    client_keys = keys(method=method)

    verdicts = in_parallel(
        24, lambda: cache_store.begin_attempt(client_keys, now, Limits())
    )
    assert sum(v.allowed for v in verdicts) == 4
    assert {v.status for v in verdicts if not v.allowed} == {"busy"}

    outcomes = in_parallel(
        4, lambda: cache_store.add_failure(client_keys, now, Limits())
    )
    lockouts = [o.lockout for per_call in outcomes for o in per_call if o.lockout]
    assert len(lockouts) == len(client_keys), "one lockout per counter, not more"
    assert {
        c.failures for c in cache_store.counters(storage.Match(everything=True))
    } == {4}


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs a database with row locks and one connection per thread "
    "(run with LOGINLIMIT_TEST_STORE=postgres)",
)
def test_parallel_tries_cannot_overspend_the_limit_in_postgresql(
    settings, transactional_db
):
    settings.WAGTAIL_LOGINLIMIT = {"store": "database"}
    now = timezone.now()
    client_keys = keys(method="ip_or_username")

    def attempt():
        try:
            return storage.begin_attempt(client_keys, now, Limits())
        finally:
            connection.close()

    verdicts = in_parallel(12, attempt)
    assert sum(v.allowed for v in verdicts) == 4

    def fail():
        try:
            return storage.record_failure(
                client_keys, LoginClient.build(A, "editor"), now, Limits()
            )
        finally:
            connection.close()

    in_parallel(4, fail)
    assert Lockout.objects.count() == 2  # the IP's and the username's
    assert {c.failures for c in storage.counters()} == {4}


# --- the system checks ---


@pytest.mark.parametrize(
    "backend",
    [
        "django.core.cache.backends.locmem.LocMemCache",
        "django.core.cache.backends.dummy.DummyCache",
        "django.core.cache.backends.filebased.FileBasedCache",
        "django.core.cache.backends.db.DatabaseCache",
    ],
)
def test_a_cache_that_is_not_redis_is_refused(settings, backend, tmp_path):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        ALIAS: {"BACKEND": backend, "LOCATION": str(tmp_path)},
    }
    settings.WAGTAIL_LOGINLIMIT = {"store": "cache", "cache_alias": ALIAS}
    [error] = check_store()
    assert error.id == "wagtail_loginlimit.E020"
    assert backend in error.msg
    assert "RedisCache" in error.hint


def test_a_sharded_django_redis_cache_is_refused(settings, redis_server):
    pytest.importorskip("django_redis")
    settings.CACHES = {
        **settings.CACHES,
        ALIAS: redis_cache(
            redis_server,
            DJANGO_REDIS_PACKAGE,
            OPTIONS={"CLIENT_CLASS": "django_redis.client.ShardClient"},
        ),
    }
    settings.WAGTAIL_LOGINLIMIT = {"store": "cache", "cache_alias": ALIAS}
    assert [error.id for error in check_store()] == ["wagtail_loginlimit.E020"]


def test_a_cache_alias_that_does_not_exist_is_refused(settings):
    settings.WAGTAIL_LOGINLIMIT = {"store": "cache", "cache_alias": "nowhere"}
    [error] = check_store()
    assert error.id == "wagtail_loginlimit.E021"
    assert "'nowhere'" in error.msg


def test_a_redis_cache_passes_the_checks(settings, cache_store):
    assert check_store() == []


def test_the_database_store_needs_no_redis_but_a_cache_that_exists(settings):
    """Used challenge answers and attack mode's counts live in `cache_alias`
    whatever the store: a missing one would refuse every solved challenge."""
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    }
    settings.WAGTAIL_LOGINLIMIT = {"store": "database", "cache_alias": "default"}
    assert check_store() == []
    settings.WAGTAIL_LOGINLIMIT = {"store": "database", "cache_alias": "nowhere"}
    [error] = check_store()
    assert error.id == "wagtail_loginlimit.E021"
    assert "Add a cache named 'nowhere'" in error.hint


@pytest.mark.parametrize(
    ("key", "value"),
    [("store", "memcached"), ("on_store_error", "ignore"), ("cache_alias", "")],
)
def test_invalid_store_settings_are_reported(settings, key, value):
    settings.WAGTAIL_LOGINLIMIT = {key: value}
    [error] = check_configuration()
    assert error.id == "wagtail_loginlimit.E001"
    assert key in error.msg


def test_store_keys_are_code_only_and_parsed(settings, db):
    from wagtail_loginlimit.code_settings import code_value
    from wagtail_loginlimit.conf import get_config

    settings.WAGTAIL_LOGINLIMIT = {
        "store": " Cache ",
        "on_store_error": "ALLOW",
        "cache_alias": " sessions ",
    }
    assert code_value("store") == "cache"
    assert code_value("on_store_error") == "allow"
    assert code_value("cache_alias") == "sessions"
    assert get_config().store == "cache"


def test_the_cache_store_works_with_a_counter_without_ttl_left(cache_store, redis, db):
    """Keys written by hand (or by an older version) without a TTL are read,
    and get one on the next write."""
    name = cache_store.counter_name(keys()[0].digest)
    now = timezone.now()
    cache_store.add_failure(keys(), now, Limits())
    redis.persist(name)
    cache_store.add_failure(keys(), now + timedelta(seconds=1), Limits())
    assert redis.ttl(name) > 0
    assert [c.failures for c in storage.counters()] == [2]


# --- the servers: a missing one fails a CI run and skips a local one ---


@pytest.mark.parametrize(("ci", "outcome"), [("true", "Failed"), ("", "Skipped")])
def test_a_missing_server_fails_under_ci_and_skips_locally(monkeypatch, ci, outcome):
    from tests import services

    monkeypatch.setenv("CI", ci)
    with pytest.raises(BaseException) as raised:
        services.missing(services.ServiceMissing("Redis is not installed"))
    assert type(raised.value).__name__ == outcome
    assert "Redis is not installed" in str(raised.value)


@pytest.mark.parametrize(
    ("store", "variable"),
    [("redis", "LOGINLIMIT_TEST_REDIS_SERVER"), ("postgres", "LOGINLIMIT_TEST_PG_BIN")],
)
def test_a_store_run_without_its_server_fails_under_ci(tmp_path, store, variable):
    """tests/settings.py refuses to fall back to SQLite under CI, and skips
    every test (saying why) outside it."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parent.parent
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("LOGINLIMIT_TEST_")
    }
    env.update(
        {
            "LOGINLIMIT_TEST_STORE": store,
            variable: str(tmp_path / "not-installed"),
            "PYTHONPATH": str(repo),
        }
    )
    code = "import tests.settings as s; print(repr(s.TEST_STORE_SKIP))"

    def run(ci: str) -> subprocess.CompletedProcess:
        return subprocess.run(  # noqa: S603
            [sys.executable, "-c", code],
            env={**env, "CI": ci},
            cwd=repo,
            capture_output=True,
            text=True,
            check=False,
        )

    in_ci = run("true")
    assert in_ci.returncode != 0
    assert "CI=true: a missing server fails the run" in in_ci.stderr
    local = run("")
    assert local.returncode == 0, local.stderr
    assert f"LOGINLIMIT_TEST_STORE={store}" in local.stdout
    assert "not-installed" in local.stdout
