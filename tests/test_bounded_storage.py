"""Storage that does not grow with attempts, and indexes that keep the lockout
check and the reports' first pages off full table scans.

- A client is one counter however often it tries; refused tries write nothing;
  django-axes' `AccessAttempt` (which appends request data to its rows) is never
  written by this plugin; the failure log is bounded by the lockout rules and
  `loginlimit_purge`.
- Migration 0003 adds indexes to axes' failure log; the database's own planner
  (`EXPLAIN QUERY PLAN` on SQLite, `EXPLAIN` on PostgreSQL) is asked whether the
  queries the reports and a login really make use an index.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from wagtail.test.utils import WagtailTestUtils

from tests.conftest import PASSWORD
from wagtail_loginlimit import storage
from wagtail_loginlimit.models import FailureCounter, Lockout

A = "203.0.113.7"
NETWORK_OF_A = "203.0.113.0/24"
FAILURE_LOG = AccessFailureLog._meta.db_table
COUNTERS = FailureCounter._meta.db_table
LOCKOUTS = Lockout._meta.db_table
NEW_INDEXES = {
    "loginlimit_afl_time_idx": ["attempt_time"],
    "loginlimit_afl_ip_time_idx": ["ip_address", "attempt_time"],
    "loginlimit_afl_user_time_idx": ["username", "attempt_time"],
}


def cache_store_in_use() -> bool:
    return storage.get_store().name == "cache"


# --- per client: bounded whatever the number of attempts ---


def test_a_client_is_one_counter_however_often_it_tries(login, user, clock):
    for _ in range(60):
        login("editor", ip=A)

    # One counter for the client, one for its network (`network_retries`),
    # one for the account's budget (`account_budget`).
    counters = {
        c.entry_point or c.scope: (c.ip_group or c.username, c.failures)
        for c in storage.counters()
    }
    assert counters == {
        "ip": (A, 4),
        "network": (NETWORK_OF_A, 4),
        "account_budget": ("editor", 4),
    }
    # Refused tries are neither counted nor logged: four failures, four rows.
    assert AccessFailureLog.objects.count() == 4
    assert Lockout.objects.count() == 1
    # axes' AccessAttempt, which appends GET/POST data to one row per client
    # and user agent, is never written by this plugin.
    assert not AccessAttempt.objects.exists()

    clock.shift(timedelta(minutes=21))
    assert login("editor", password=PASSWORD, ip=A).status_code == 302
    assert not AccessAttempt.objects.exists()
    assert AccessLog.objects.count() == 1
    assert storage.counters() == []  # the network forgave editor its share too


def test_the_failure_log_grows_with_time_not_attempts_and_purge_bounds_it(
    settings, login, clock, db
):
    """An attacker coming back the moment each lockout ends gets
    `allowed_retries × allowed_lockouts` failures logged per long lockout; what
    `loginlimit_purge` keeps is bounded by the retention period."""
    settings.WAGTAIL_LOGINLIMIT = {
        "allowed_retries": 2,
        "lockout_duration": 60,
        "allowed_lockouts": 2,
        "long_duration": 3 * 3600,
        "valid_duration": 4 * 3600,
        "retention_days": 1,
        # The lockouts alone, without the account's budget, which would make
        # this attacker (no challenge solved) stop being counted at all.
        "account_budget": 0,
    }
    cycles = 16  # two days of long lockouts
    for _ in range(cycles):
        for _ in range(5):
            login("editor", ip=A)  # 2 failures, then refused
        clock.shift(timedelta(seconds=61))
        for _ in range(5):
            login("editor", ip=A)  # 2 more: a long lockout
        clock.shift(timedelta(hours=3, seconds=1))
    assert AccessFailureLog.objects.count() == 4 * cycles
    assert len(storage.counters()) == 2  # the client's and its network's

    call_command("loginlimit_purge", stdout=io.StringIO())
    # One day (and the valid window) of failures remain: 4 per 3 h 1 min cycle.
    kept = AccessFailureLog.objects.count()
    assert 0 < kept <= 4 * 9


# --- the migration's indexes on axes' failure log ---


def index_columns(table: str) -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {
        name: info["columns"] for name, info in constraints.items() if info["index"]
    }


def test_the_failure_log_has_the_indexes_the_reports_need(db):
    indexes = index_columns(FAILURE_LOG)
    for name, columns in NEW_INDEXES.items():
        assert indexes.get(name) == columns


def test_the_index_migration_is_reversible(transactional_db):
    call_command("migrate", "wagtail_loginlimit", "zero", verbosity=0)
    try:
        assert not set(NEW_INDEXES) & set(index_columns(FAILURE_LOG))
    finally:
        call_command("migrate", "wagtail_loginlimit", verbosity=0)
    assert set(NEW_INDEXES) <= set(index_columns(FAILURE_LOG))


def test_the_migration_keeps_an_index_made_beforehand(transactional_db):
    """An index created by hand (e.g. CONCURRENTLY on a big table) on the same
    columns is kept, and no second one is added."""
    call_command("migrate", "wagtail_loginlimit", "zero", verbosity=0)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                f'CREATE INDEX by_hand_time ON "{FAILURE_LOG}" ("attempt_time")'
            )
        call_command("migrate", "wagtail_loginlimit", verbosity=0)
        indexes = index_columns(FAILURE_LOG)
        assert indexes["by_hand_time"] == ["attempt_time"]
        assert "loginlimit_afl_time_idx" not in indexes
        assert indexes["loginlimit_afl_ip_time_idx"] == ["ip_address", "attempt_time"]
        # Backwards drops only what the migration made.
        call_command("migrate", "wagtail_loginlimit", "zero", verbosity=0)
        assert "by_hand_time" in index_columns(FAILURE_LOG)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP INDEX IF EXISTS by_hand_time")
        call_command("migrate", "wagtail_loginlimit", verbosity=0)


# --- what the planner does with many rows ---


@pytest.fixture
def many_rows(db, monkeypatch):
    """20,000 failures of 2,000 clients over 90 days, 20,000 counters and 5,000
    lockouts (50 of them active): enough rows that PostgreSQL's planner prefers
    an index wherever one helps."""
    now = timezone.now()
    field = AccessFailureLog._meta.get_field("attempt_time")
    monkeypatch.setattr(field, "auto_now_add", False)  # keep the times given
    AccessFailureLog.objects.bulk_create(
        (
            AccessFailureLog(
                username=f"user{i % 500}",
                ip_address=f"10.{i % 2000 // 250}.{i % 250}.1",
                user_agent="bench",
                http_accept="*/*",
                path_info="/admin/login/",
                attempt_time=now - timedelta(seconds=390 * i),
                locked_out=i % 4 == 0,
            )
            for i in range(20_000)
        ),
        batch_size=2000,
    )
    FailureCounter.objects.bulk_create(
        (
            FailureCounter(
                key=f"{i:064x}", scope="ip", ip_group=f"10.9.{i // 250}.{i % 250}"
            )
            for i in range(20_000)
        ),
        batch_size=2000,
    )
    Lockout.objects.bulk_create(
        (
            Lockout(
                key=f"{i:064x}",
                scope="ip",
                ip_address=f"10.8.{i // 250}.{i % 250}",
                ip_group=f"10.8.{i // 250}.{i % 250}",
                started_at=now - timedelta(minutes=10 + 15 * i),
                ends_at=now - timedelta(minutes=15 * i) + timedelta(minutes=10),
                failure_count=4,
            )
            for i in range(5_000)
        ),
        batch_size=2000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    assert Lockout.objects.active().count() == 1  # plus those a test adds


def explain(sql: str) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
            return "\n".join(row[-1] for row in cursor.fetchall())
        cursor.execute("EXPLAIN " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def full_scans(plan: str, table: str) -> list[str]:
    """Lines of `plan` that read all of `table` (or all of one of its indexes)
    rather than a range. A scan in index order for ORDER BY … LIMIT stops after
    the page, so it passes."""
    if connection.vendor == "sqlite":
        return re.findall(
            rf"^SCAN {table}(?: USING COVERING INDEX \S+)?$", plan, re.MULTILINE
        )
    return re.findall(rf"Seq Scan on {table}\b", plan)


def reads_a_range(plan: str, table: str) -> bool:
    """`plan` looks `table` up through an index condition."""
    if connection.vendor == "sqlite":
        return f"SEARCH {table} USING" in plan and f"SCAN {table}" not in plan
    return "Index Cond" in plan and not full_scans(plan, table)


def sorts_everything(plan: str) -> bool:
    """The plan sorts the whole result rather than reading it in index order."""
    if connection.vendor == "sqlite":
        return "USE TEMP B-TREE FOR ORDER BY" in plan
    return bool(re.search(r"^\s*(->\s*)?Sort\b", plan, re.MULTILINE))


def page_queries(queries, table: str) -> list[str]:
    """The SELECTs that fetch a page of rows of `table` (not COUNT(*))."""
    return [
        q["sql"]
        for q in queries
        if q["sql"].startswith("SELECT")
        and f'FROM "{table}"' in q["sql"]
        and " LIMIT " in q["sql"]
        and "COUNT(" not in q["sql"]
    ]


@pytest.fixture
def admin_browser(db):
    admin = WagtailTestUtils.create_superuser("boss", password=PASSWORD)
    browser = Client()
    browser.force_login(admin)
    return browser


def captured(browser, url: str) -> list[dict]:
    with CaptureQueriesContext(connection) as context:
        assert browser.get(url).status_code == 200
    return context.captured_queries


REPORT_PAGES = [
    # (what, url, table, read in index order: no sort of the whole table)
    ("failed logins", reverse("wagtail_loginlimit:failed_logins"), FAILURE_LOG, True),
    # One client's rows: found through (ip_address, attempt_time).
    (
        "failed logins of one IP",
        reverse("wagtail_loginlimit:failed_logins") + "?ip=10.1.7.1",
        FAILURE_LOG,
        False,
    ),
    ("lockout history", reverse("wagtail_loginlimit:lockout_history"), LOCKOUTS, True),
    # Few lockouts are active: found through `ends_at`, then sorted.
    ("active lockouts", reverse("wagtail_loginlimit:active_lockouts"), LOCKOUTS, False),
]


def test_the_planner_uses_indexes_for_the_lockout_check_and_the_reports(
    many_rows, admin_browser, login, settings, django_user_model
):
    """One set of rows, every query that must stay fast on a big table."""
    problems = []
    settings.WAGTAIL_LOGINLIMIT = {"deactivate_after": 100}
    django_user_model.objects.create_user("user7", password=PASSWORD)

    # A failed login: the lockout check (database store) reads the client's
    # counter by its key; deactivation counts the account's recent failures.
    with CaptureQueriesContext(connection) as context:
        login("user7", ip=A)
    reads = [
        q["sql"]
        for q in context.captured_queries
        if q["sql"].startswith("SELECT") and f'FROM "{COUNTERS}"' in q["sql"]
    ]
    account = [
        q["sql"]
        for q in context.captured_queries
        if q["sql"].startswith("SELECT COUNT(*)")
        and f'FROM "{FAILURE_LOG}"' in q["sql"]
    ]
    assert account, "no count of the account's failures"
    problems += [
        ("account failures", sql, plan)
        for sql, plan in ((sql, explain(sql)) for sql in account)
        if not reads_a_range(plan, FAILURE_LOG)
    ]
    if cache_store_in_use():
        assert reads == [], "the cache store read the database's counters"
    else:
        assert reads, "no lockout check in the database"
        problems += [
            ("lockout check", sql, plan)
            for sql, plan in ((sql, explain(sql)) for sql in reads)
            if not reads_a_range(plan, COUNTERS)
        ]

    # The first page of each report.
    for what, url, table, ordered_by_index in REPORT_PAGES:
        queries = page_queries(captured(admin_browser, url), table)
        assert queries, f"no page query on {table} for {what}"
        for sql in queries:
            plan = explain(sql)
            if full_scans(plan, table) or (ordered_by_index and sorts_everything(plan)):
                problems.append((what, sql, plan))

    # The dashboard's "failures in the last 24 hours". (Its 14-day chart reads
    # a sizeable share of the log whatever the indexes; the planner may rightly
    # scan for it.)
    counts = [
        q["sql"]
        for q in captured(admin_browser, reverse("wagtailadmin_home"))
        if q["sql"].startswith("SELECT COUNT(*)")
        and f'FROM "{FAILURE_LOG}"' in q["sql"]
    ]
    assert counts, "the dashboard did not count recent failures"
    problems += [
        ("dashboard", sql, plan)
        for sql, plan in ((sql, explain(sql)) for sql in counts)
        if not reads_a_range(plan, FAILURE_LOG)
    ]

    assert not problems, "\n\n".join(
        f"{w}:\n{sql}\n{plan}" for w, sql, plan in problems
    )


def test_this_run_uses_the_store_it_was_asked_for():
    """The suite really runs against the store LOGINLIMIT_TEST_STORE names."""
    expected = {
        "sqlite": ("sqlite", "database"),
        "postgres": ("postgresql", "database"),
        "redis": ("sqlite", "cache"),
    }[django_settings.TEST_STORE]
    assert (connection.vendor, storage.get_store().name) == expected
