"""Forged or left-over session cookies, counted per IP at `session_cookie`
(`session_cookie_retries`), through real requests to the Wagtail admin (which
reads the session to know who is signed in) with Django's database sessions."""

from __future__ import annotations

import logging
import secrets

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.models import Session
from django.test import Client

from tests.conftest import PASSWORD
from wagtail_loginlimit import storage
from wagtail_loginlimit.models import Lockout

A = "203.0.113.7"
ADMIN = "/admin/"


def forged(client: Client, ip: str = A):
    key = secrets.token_hex(16)
    client.cookies[django_settings.SESSION_COOKIE_NAME] = key
    return key, client.get(ADMIN, REMOTE_ADDR=ip)


def session_counters():
    return [c for c in storage.counters() if c.entry_point == "session_cookie"]


@pytest.fixture
def budget(settings):
    settings.WAGTAIL_LOGINLIMIT = {"session_cookie_retries": 5}
    return 5


def test_forged_cookies_are_counted_per_ip_then_a_lockout_is_recorded(
    client, db, budget, caplog
):
    with caplog.at_level(logging.INFO, logger="wagtail_loginlimit.security"):
        keys = [forged(client)[0] for _ in range(budget)]
    lockout = Lockout.objects.get()
    assert lockout.entry_point == "session_cookie"
    assert lockout.ip_address == A
    lines = [r.getMessage() for r in caplog.records]
    assert sum("failure ip=203.0.113.7" in line for line in lines) == budget
    assert any("lockout ip=203.0.113.7" in line for line in lines)
    assert all("entry=session_cookie" in line for line in lines)
    # No cookie value reaches the log.
    assert not any(key in line for key in keys for line in lines)


def test_nothing_is_refused_for_it(client, db, budget, user):
    """Counting only: a lockout at `session_cookie` signs nobody out and
    refuses no login from the address (see wagtail_loginlimit.session_cookies)."""
    for _ in range(budget + 3):
        forged(client)
    person = Client()
    response = person.post(
        "/admin/login/",
        {"username": "editor", "password": PASSWORD},
        REMOTE_ADDR=A,
    )
    assert response.status_code == 302
    assert person.get(ADMIN, REMOTE_ADDR=A).status_code in (200, 302)


def test_a_signed_in_session_and_a_logout_are_never_counted(db, admin_user):
    person = Client()
    person.post(
        "/admin/login/", {"username": "admin", "password": PASSWORD}, REMOTE_ADDR=A
    )
    for _ in range(10):
        assert person.get(ADMIN, REMOTE_ADDR=A).status_code == 200
    person.post("/admin/logout/", REMOTE_ADDR=A)
    person.get(ADMIN, REMOTE_ADDR=A)
    assert session_counters() == []


def test_a_stale_cookie_counts_once(db, admin_user):
    """Sessions cleared on the server: the browser's cookie names none. Django
    deletes it in the first response, so a person is counted once."""
    person = Client()
    person.post(
        "/admin/login/", {"username": "admin", "password": PASSWORD}, REMOTE_ADDR=A
    )
    Session.objects.all().delete()
    for _ in range(5):
        person.get(ADMIN, REMOTE_ADDR=A)
    assert [c.failures for c in session_counters()] == [1]


def test_off_with_zero(client, db, settings):
    settings.WAGTAIL_LOGINLIMIT = {"session_cookie_retries": 0}
    for _ in range(3):
        forged(client)
    assert session_counters() == []


def test_the_default_budget_is_generous(client, db):
    for _ in range(20):
        forged(client)
    assert [c.failures for c in session_counters()] == [20]
    assert not Lockout.objects.exists()
