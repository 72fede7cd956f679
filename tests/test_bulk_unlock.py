"""Unlocking many lockouts at once ("select all → Unlock" after an attack):
a few queries per batch of clients, not per lockout, and exactly what unlocking
them one by one did. Real SQLite (or the run's PostgreSQL / Redis store)."""

from __future__ import annotations

import ipaddress
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client as Browser
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from wagtail.models import ModelLogEntry
from wagtail.test.utils import WagtailTestUtils

from tests.conftest import PASSWORD, START
from wagtail_loginlimit import audit_log, events, policy, storage, unlocking
from wagtail_loginlimit.clients import (
    SCOPE_IP,
    SCOPE_PAIR,
    SCOPE_USERNAME,
    ClientIdentity,
    CounterKey,
)
from wagtail_loginlimit.models import Lockout

UNLOCK_BULK = reverse(
    "wagtail_bulk_action", args=["wagtail_loginlimit", "lockout", "unlock"]
)
ACTIVE = reverse("wagtail_loginlimit:active_lockouts")
# Two failures lock a client out: one failure is a count without a lockout.
LIMITS = policy.Limits(allowed_retries=2)


def fail(scope: str, ip: str | None, username: str | None, times: int = 2, at=None):
    """`times` failures of one client on the counter of `scope`, through the
    run's store, as a login records them."""
    client = ClientIdentity.build(ip, username)
    key = CounterKey(
        scope,
        None if scope == SCOPE_USERNAME else client.ip_group,
        None if scope == SCOPE_IP else client.username,
    )
    for _ in range(times):
        storage.record_failure([key], client, at or START, LIMITS)


def address(number: int) -> str:
    return str(ipaddress.IPv4Address(0x0A000000 + number))


def many_lockouts(count: int, offset: int = 0) -> None:
    """`count` lockouts, a third each by IP, by username and by IP-and-username
    (every pair from an IP of its own: the widest condition a batch can get)."""
    for number in range(offset, offset + count):
        scope = (SCOPE_IP, SCOPE_USERNAME, SCOPE_PAIR)[number % 3]
        fail(scope, address(number), f"user{number}")


@pytest.fixture
def admin(db):
    return WagtailTestUtils.create_superuser("boss", password=PASSWORD)


@pytest.fixture
def received():
    """The `loginlimit_reset` events fired."""
    seen: list[events.LoginLimitEvent] = []

    def on_reset(sender, event, **kwargs):
        seen.append(event)

    events.loginlimit_reset.connect(on_reset)
    yield seen
    events.loginlimit_reset.disconnect(on_reset)


# --- queries ------------------------------------------------------------------


def test_queries_grow_with_batches_not_with_lockouts(
    clock, admin, django_capture_on_commit_callbacks
):
    def queries_to_unlock(count: int, offset: int) -> int:
        many_lockouts(count, offset)
        chosen = list(Lockout.objects.active(START))
        assert len(chosen) == count
        with (
            CaptureQueriesContext(connection) as queries,
            django_capture_on_commit_callbacks(execute=True),
        ):
            assert unlocking.unlock_lockouts(chosen, by=admin) == count
        assert not Lockout.objects.active(START).exists()
        entries = ModelLogEntry.objects.filter(action=audit_log.UNLOCK)
        assert entries.count() == count
        entries.delete()
        return len(queries)

    small = queries_to_unlock(100, 0)
    big = queries_to_unlock(1000, 100)
    # One by one this took 9 queries per lockout (900 for 100), audit-log
    # INSERT included. Now: a few per batch of 500 clients, and the
    # audit entries in INSERTs of as many rows as the database takes at once
    # (SQLite's 999 variables: ~90 entries; PostgreSQL: all).
    fields = [field for field in ModelLogEntry._meta.concrete_fields if field.column]
    per_insert = connection.ops.bulk_batch_size(fields, range(1000))
    audit_inserts = -(-1000 // per_insert)
    assert big <= 2 * small + audit_inserts, (small, big)


# --- the same as one by one ----------------------------------------------------

A, B, C, D, E, F, G, H, K = (f"192.0.2.{n}" for n in range(1, 10))


def scenario() -> list[Lockout]:
    """Overlapping, expired and already lifted lockouts, and counts without a
    lockout; returns the lockouts an admin chose, in the listing's order."""
    fail(SCOPE_IP, A, None)
    fail(SCOPE_IP, B, None)
    fail(SCOPE_IP, C, None, at=START - timedelta(hours=1))  # ended, still counted
    fail(SCOPE_IP, D, None)  # lifted already, below
    fail(SCOPE_USERNAME, None, "alice")
    fail(SCOPE_USERNAME, None, "bob")
    fail(SCOPE_PAIR, A, "carol")  # within A's
    fail(SCOPE_PAIR, A, "frank")  # within A's, not chosen
    fail(SCOPE_PAIR, E, "alice")  # within alice's
    fail(SCOPE_PAIR, E, "dave")
    fail(SCOPE_PAIR, F, "erin")
    fail(SCOPE_IP, K, None)  # not chosen: stays
    fail(SCOPE_PAIR, A, "zed", times=1)  # counts without a lockout
    fail(SCOPE_PAIR, G, "bob", times=1)
    fail(SCOPE_IP, H, None, times=1)  # not chosen: stays
    Lockout.objects.filter(ip_group=D).update(
        lifted_at=START - timedelta(minutes=1), lift_reason="earlier"
    )

    def lockout(ip_group: str, username: str) -> Lockout:
        return Lockout.objects.get(ip_group=ip_group, username=username)

    return [
        lockout(A, "carol"),  # before A's own: A's reset lifts it again
        lockout(A, ""),
        lockout(B, ""),
        lockout(C, ""),
        lockout(D, ""),
        lockout("", "alice"),
        lockout(E, "alice"),
        lockout(E, "dave"),
        lockout("", "bob"),
        lockout(F, "erin"),
        lockout(A, ""),  # chosen twice
    ]


def outcome(received, count: int) -> dict:
    def who(lockout) -> tuple:
        return (lockout.scope, lockout.ip_group, lockout.username)

    return {
        "count": count,
        "lockouts": sorted(
            (*who(lockout), lockout.lifted_at is not None, lockout.lift_reason)
            for lockout in Lockout.objects.all()
        ),
        "counters": sorted(
            (counter.scope, counter.ip_group, counter.username, counter.failures)
            for counter in storage.counters()
        ),
        "audit": sorted(
            (
                entry.label,
                entry.object_id is not None,
                entry.user_id,
                entry.data["scope"],
            )
            for entry in ModelLogEntry.objects.filter(action=audit_log.UNLOCK)
        ),
        "events": sorted(
            (
                event.ip_address or "",
                event.username or "",
                event.failure_count or 0,
                who(event.lockout) if event.lockout else (),
                event.reason,
                event.by.pk,
            )
            for event in received
        ),
    }


def forget_everything() -> None:
    storage.clear_and_lift(everything=True)
    Lockout.objects.all().delete()
    ModelLogEntry.objects.all().delete()


def test_bulk_unlock_does_what_unlocking_one_by_one_did(
    clock, admin, received, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        count = unlocking.unlock_lockouts(scenario(), by=admin)
    bulk = outcome(received, count)

    forget_everything()
    received.clear()
    count = 0
    with django_capture_on_commit_callbacks(execute=True):
        for lockout in scenario():
            if not Lockout.objects.active(START).filter(pk=lockout.pk).exists():
                continue
            scope = unlocking._reset_scope(lockout)
            count += unlocking.unlock(
                ip=scope.get("ip_group"), username=scope.get("username"), by=admin
            ).count
    assert bulk == outcome(received, count)

    # What that is, spelled out.
    assert bulk["count"] == 9  # (A, frank) too, lifted with A
    still = [lockout[:3] for lockout in bulk["lockouts"] if not lockout[3]]
    assert still == [("ip", C, ""), ("ip", K, "")]  # C had ended already
    assert [counter[:3] for counter in bulk["counters"]] == [
        ("ip", C, ""),
        ("ip", D, ""),
        ("ip", H, ""),
        ("ip", K, ""),
    ]
    assert len(bulk["audit"]) == 9
    # One event per lifted lockout, one per forgotten count without one.
    assert len(bulk["events"]) == 11
    assert (A, "zed", 1, (), "unlock", admin.pk) in bulk["events"]
    assert (G, "bob", 1, (), "unlock", admin.pk) in bulk["events"]


def test_nothing_chosen_forgets_nothing(clock, admin):
    fail(SCOPE_IP, A, None)
    assert unlocking.unlock_lockouts([], by=admin) == 0
    assert storage.clear_and_lift_many(storage.Scopes()).counters == []
    assert Lockout.objects.active(START).count() == 1
    assert len(storage.counters()) == 1


def test_batches_stay_within_the_query_limits():
    scopes = storage.Scopes(
        ip_groups=frozenset(address(n) for n in range(600)),
        usernames=frozenset(f"user{n}" for n in range(300)),
        pairs=frozenset((address(n), f"user{n}") for n in range(400)),
    )
    parts = list(scopes.chunks(500))
    weights = [
        len(part.ip_groups) + len(part.usernames) + 2 * len(part.pairs)
        for part in parts
    ]
    assert max(weights) <= 500
    assert sum(len(part) for part in parts) == len(scopes)
    assert frozenset().union(*(part.pairs for part in parts)) == scopes.pairs


# --- the admin's bulk action ----------------------------------------------------


def test_select_all_unlock_in_the_admin(
    clock, admin, received, django_capture_on_commit_callbacks
):
    many_lockouts(120)
    fail(SCOPE_PAIR, A, "carol", times=1)  # a count of no chosen client
    browser = Browser()
    browser.force_login(admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = browser.post(f"{UNLOCK_BULK}?id=all&next={ACTIVE}", follow=True)
    assert "120 lockouts lifted." in response.content.decode()
    assert not Lockout.objects.active(START).exists()
    assert set(Lockout.objects.values_list("lifted_by", "lift_reason")) == {
        (admin.pk, Lockout.LIFTED_UNLOCK)
    }
    assert ModelLogEntry.objects.filter(action=audit_log.UNLOCK).count() == 120
    assert len(received) == 120
    assert [(c.ip_group, c.username) for c in storage.counters()] == [(A, "carol")]
