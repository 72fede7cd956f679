"""The async login path: `aauthenticate()` / `alogin()` and the admin login page
served through Django's ASGI handler (`AsyncClient`). Locked-out clients are
refused there too, before any password is hashed, and counts are shared with the
sync path.

The coroutines run through `async_to_sync`, so Django's thread-sensitive ORM calls
land on the test's own database connection (no pytest-asyncio needed).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from django.contrib.auth import aauthenticate, alogin
from django.contrib.sessions.backends.db import SessionStore
from django.test import AsyncClient, RequestFactory

from tests.conftest import PASSWORD, client_counters
from wagtail_loginlimit import storage
from wagtail_loginlimit.models import Lockout

A = "203.0.113.7"
B = "198.51.100.9"


def request_from(ip=A):
    request = RequestFactory().post("/api/login/", REMOTE_ADDR=ip)
    request.session = SessionStore()
    return request


def authenticate_async(username, password, ip=A, request=None):
    request = request or request_from(ip)
    return async_to_sync(aauthenticate)(
        request=request, username=username, password=password
    )


class AsyncClientFrom(AsyncClient):
    """An AsyncClient whose ASGI scope carries the given client address, as an
    ASGI server fills it in (AsyncClient's keyword arguments only add headers)."""

    def __init__(self, ip):
        super().__init__()
        self.ip = ip

    def _base_scope(self, **request):
        return {**super()._base_scope(**request), "client": [self.ip, 0]}


def admin_login_async(username, password="wrong", ip=A):
    """POST to /admin/login/ through the ASGI handler and async middleware."""

    async def post():
        return await AsyncClientFrom(ip).post(
            "/admin/login/", {"username": username, "password": password}
        )

    return async_to_sync(post)()


def remaining(response):
    found = re.findall(r"(\d+) attempts? remaining\.", response.content.decode())
    return int(found[0]) if found else None


def test_aauthenticate_counts_and_locks_out(user, hasher_calls):
    request = request_from()
    assert authenticate_async("editor", "wrong", request=request) is None
    # Axes' request update ran on the async path too, and the count was kept.
    assert request.axes_ip_address == A
    assert request.loginlimit.decision.tries_left == 3

    for _ in range(3):
        authenticate_async("editor", "wrong")
    assert Lockout.objects.active().count() == 1

    before = hasher_calls()
    refused = request_from()
    assert authenticate_async("editor", PASSWORD, request=refused) is None
    assert hasher_calls() == before
    assert refused.loginlimit.decision.refused
    assert refused.loginlimit.decision.retry_after == 1200


def test_lockout_from_the_sync_path_holds_on_the_async_path(login, user, hasher_calls):
    for _ in range(4):
        login("editor")
    before = hasher_calls()
    assert authenticate_async("editor", PASSWORD) is None
    assert hasher_calls() == before


def test_lockout_from_the_async_path_holds_on_the_sync_path(login, user, hasher_calls):
    for _ in range(4):
        authenticate_async("editor", "wrong")
    before = hasher_calls()
    assert login("editor", password=PASSWORD).status_code == 429
    assert hasher_calls() == before


@pytest.mark.parametrize(
    "method", ["ip", "username", "ip_and_username", "ip_or_username"]
)
def test_every_method_refuses_on_the_async_path(settings, user, hasher_calls, method):
    settings.WAGTAIL_LOGINLIMIT = {"lockout_method": method}
    for _ in range(4):
        authenticate_async("editor", "wrong")
    before = hasher_calls()
    assert authenticate_async("editor", PASSWORD) is None
    assert hasher_calls() == before


def test_alogin_resets_the_count(user):
    for _ in range(2):
        authenticate_async("editor", "wrong")
    request = request_from()
    logged_in = authenticate_async("editor", PASSWORD, request=request)
    assert logged_in == user
    async_to_sync(alogin)(request, logged_in)
    assert client_counters() == []
    assert storage.counters() == []  # its network forgave it its share too
    assert (
        authenticate_async("editor", "wrong", request=(after := request_from())) is None
    )
    assert after.loginlimit.decision.tries_left == 3


def test_admin_login_through_asgi(user, hasher_calls, clock):
    assert [remaining(admin_login_async("editor")) for _ in range(3)] == [3, 2, 1]

    locked = admin_login_async("editor")
    assert locked.status_code == 429
    assert locked["Retry-After"] == "1200"

    before = hasher_calls()
    refused = admin_login_async("editor", PASSWORD)
    assert refused.status_code == 429
    assert hasher_calls() == before
    assert admin_login_async("editor", PASSWORD, ip=B).status_code == 302

    clock.shift(timedelta(minutes=20))
    assert admin_login_async("editor", PASSWORD).status_code == 302
