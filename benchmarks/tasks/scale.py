"""Does a big store slow the lockout check or the admin reports down?

Two copies of the migrated database are filled (in batches, see `_insert`): one to the small size, one to the large size. Then the lockout check
and the first page of each report are timed on both, in turns, so that the
ratio holds even if the machine's load changes during the run. The rows look
like an attack's aftermath: one counter per client address (every tenth one
locked out), one lockout record per ten counters, and django-axes' failure log.
"""

from __future__ import annotations

import ipaddress
import statistics
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from axes.models import AccessFailureLog
from django.db import connection, transaction
from django.utils import timezone

from benchmarks import measure, site
from wagtail_loginlimit import storage
from wagtail_loginlimit.clients import (
    SCOPE_IP,
    ClientIdentity,
    CounterKey,
    counter_keys,
)
from wagtail_loginlimit.conf import Config
from wagtail_loginlimit.models import FailureCounter, Lockout

CHUNK = 10_000
REPORTS = {
    "report_active_lockouts": "/admin/login-security/lockouts/active/",
    "report_lockout_history": "/admin/login-security/lockouts/",
    "report_failed_logins": "/admin/login-security/failed-logins/",
}
_FIRST = int(ipaddress.IPv4Address("10.0.1.0"))


def fill_ip(number: int) -> str:
    """The `number`-th client of the fill (10.0.0.0/8 has 16 million)."""
    return str(ipaddress.IPv4Address(_FIRST + number))


def _counters(start: int, stop: int, now) -> list[FailureCounter]:
    rows = []
    for number in range(start, stop):
        address = fill_ip(number)
        locked = number % 10 == 0
        rows.append(
            FailureCounter(
                key=CounterKey(SCOPE_IP, address, None).digest,
                scope=SCOPE_IP,
                ip_group=address,
                failures=4 if locked else 1 + number % 3,
                last_failure=now - timedelta(seconds=number % 3600),
                locked_until=now + timedelta(hours=1) if locked else None,
            )
        )
    return rows


def _lockouts(start: int, stop: int, now, active: int) -> list[Lockout]:
    rows = []
    for number in range(start, stop):
        address = fill_ip(number * 10)
        started = now - timedelta(seconds=60 + number * 7 % (90 * 86400))
        ends = (
            now + timedelta(hours=1)
            if number < active
            else started + timedelta(minutes=20)
        )
        rows.append(
            Lockout(
                key=CounterKey(SCOPE_IP, address, None).digest,
                scope=SCOPE_IP,
                ip_address=address,
                ip_group=address,
                started_at=started,
                ends_at=ends,
                failure_count=4,
                number=1,
            )
        )
    return rows


def _failure_log(start: int, stop: int, now, clients: int) -> list[AccessFailureLog]:
    return [
        AccessFailureLog(
            username=f"user{number % 5000}",
            ip_address=fill_ip(number % clients),
            user_agent="Mozilla/5.0 (benchmark)",
            http_accept="text/html",
            path_info=site.LOGIN_URL,
            attempt_time=now - timedelta(seconds=number * 7 % (90 * 86400)),
            locked_out=number % 4 == 3,
        )
        for number in range(start, stop)
    ]


def _adapter(field) -> Callable[[Any], Any]:
    """How a value of `field` goes to the database driver: what
    `Field.get_db_prep_save()` does, without its per-value overhead for the
    plain types that need nothing."""
    kind = field.get_internal_type()
    if kind == "DateTimeField":
        return connection.ops.adapt_datetimefield_value
    if kind == "GenericIPAddressField":
        return connection.ops.adapt_ipaddressfield_value
    if kind in PLAIN_TYPES:
        return lambda value: value
    return lambda value: field.get_db_prep_save(value, connection)


PLAIN_TYPES = {
    "CharField",
    "BooleanField",
    "PositiveIntegerField",
    "IntegerField",
    "BigIntegerField",
    "TextField",
}


def _insert(model, make, start: int, stop: int) -> None:
    """Insert the rows `make(a, b)` returns, `CHUNK` per transaction, as
    `bulk_create()` would: every concrete field, each value as Django prepares
    it. The rows go through `executemany()` instead, because `bulk_create()`
    spends three quarters of its time preparing each value of each row, which
    made filling a million rows take minutes."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    adapters = [_adapter(field) for field in fields]
    quote = connection.ops.quote_name
    # Table and column names from the model; the values go as parameters.
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} "  # noqa: S608
        f"({', '.join(quote(field.column) for field in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    for chunk in range(start, stop, CHUNK):
        rows = [
            tuple(
                adapt(getattr(obj, field.attname))
                for field, adapt in zip(fields, adapters, strict=True)
            )
            for obj in make(chunk, min(stop, chunk + CHUNK))
        ]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(sql, rows)


def grow(sizes: dict[str, int], have: dict[str, int], now) -> None:
    """Add rows until each table has its size (`have` holds what is there)."""
    counters = sizes["counters"]
    _insert(
        FailureCounter,
        lambda a, b: _counters(a, b, now),
        have.get("counters", 0),
        counters,
    )
    _insert(
        Lockout,
        lambda a, b: _lockouts(a, b, now, active=max(1, sizes["lockouts"] // 100)),
        have.get("lockouts", 0),
        sizes["lockouts"],
    )
    _insert(
        AccessFailureLog,
        lambda a, b: _failure_log(a, b, now, counters),
        have.get("failure_log", 0),
        sizes["failure_log"],
    )
    # What autovacuum (PostgreSQL) does after a big insert; SQLite's
    # planner uses the same statistics when they exist.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


ROUNDS = 5


def use_database(name: str) -> None:
    """Point the default connection at another database (both are copies of
    one migrated template, so every id and cached content type matches)."""
    connection.close()
    connection.settings_dict["NAME"] = name


def _actions(repeat: int) -> dict[str, tuple[Callable[[], Any], int]]:
    """name -> (one measured call, calls per round), on the current database."""
    config = Config()
    client = ClientIdentity.build(fill_ip(0), None)  # locked out by the fill
    keys = counter_keys(client, config.lockout_method)

    def check(verdict) -> None:
        if verdict.allowed:
            raise AssertionError("the filled client should be locked out")

    http = site.client()
    actions: dict[str, tuple[Callable[[], Any], int]] = {
        "peek": (
            lambda: check(storage.peek(keys, timezone.now(), config.limits)),
            repeat * 2,
        ),
        "begin_attempt": (
            lambda: check(storage.begin_attempt(keys, timezone.now(), config.limits)),
            repeat * 2,
        ),
        "refused_login": (
            lambda: site.login(
                http, site.ADMIN, site.WRONG_PASSWORD, fill_ip(0), expect=429
            ),
            max(1, repeat // 2),
        ),
    }
    admin = site.logged_in_admin()  # a session in this database
    for name, path in REPORTS.items():

        def get(path=path):
            response = admin.get(path)
            if response.status_code != 200:
                raise AssertionError(f"GET {path}: HTTP {response.status_code}")

        actions[name] = (get, max(1, repeat // 10))
    return actions


def _measure_both(
    databases: dict[str, str], repeat: int, warmup: int
) -> dict[str, dict[str, float]]:
    """Median times on each database, measured in turns (small, large, small,
    large, …) so that a change in the machine's load hits both alike."""
    actions = {}
    for size, name in databases.items():
        use_database(name)
        actions[size] = _actions(repeat)
    samples: dict[str, dict[str, list[float]]] = {
        size: {key: [] for key in actions[size]} for size in databases
    }
    for _ in range(ROUNDS):
        for size, name in databases.items():
            use_database(name)
            for key, (action, count) in actions[size].items():
                for index in range(warmup + count):
                    elapsed = measure.time_once(action)
                    if index >= warmup:
                        samples[size][key].append(elapsed)
    return {
        size: {key: statistics.median(values) for key, values in by_key.items()}
        for size, by_key in samples.items()
    }


def run(params: dict[str, Any]) -> dict[str, Any]:
    """Fill this worker's database to the small size and the database named
    `large_database` (a second copy of the same template) to the large size,
    then time the lockout check and the reports on both."""
    started = time.perf_counter()
    now = timezone.now()
    small, large = params["small"], params["large"]
    databases = {
        "small": connection.settings_dict["NAME"],
        "large": params["large_database"],
    }
    grow(small, {}, now)
    use_database(databases["large"])
    fill_started = time.perf_counter()
    grow(large, {}, now)
    fill_seconds = time.perf_counter() - fill_started
    results = _measure_both(databases, params["repeat"], params["warmup"])
    return {
        "vendor": connection.vendor,
        "small": small,
        "large": large,
        "at_small": results["small"],
        "at_large": results["large"],
        "fill_seconds": fill_seconds,
        "seconds": time.perf_counter() - started,
    }
