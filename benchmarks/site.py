"""Requests to the benchmarked site, inside a worker process (Django is set up).

Every login goes through the whole stack (middleware, Wagtail's login view and
form, `authenticate()`, the password hasher) with Django's test client, which
calls the WSGI handler directly: what is timed is Django's work, not a network.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from django.apps import apps
from django.contrib.auth import get_user_model
from django.test import Client

LOGIN_URL = "/admin/login/"
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
ADMIN = "admin"
GHOST = "nobody-here"  # a username no account has
PASSWORD = "benchmark-Password-1"  # noqa: S105 - a throwaway account's
WRONG_PASSWORD = "not-the-password"  # noqa: S105

# RFC 2544's benchmarking network: 131,072 addresses that are nobody's.
_NETWORK = ipaddress.ip_network("198.18.0.0/15")


_SUBNETS = 512  # the /24s of the /15


def ip(number: int) -> str:
    """The `number`-th address of the benchmarking network. Consecutive numbers
    lie in different /24s, so that clients of a benchmark are as many networks
    and no network count (`network_retries`) joins them; walk-around attacks
    that rotate inside one network choose their own addresses."""
    subnet, host = number % _SUBNETS, 1 + (number // _SUBNETS) % 254
    return str(_NETWORK[subnet * 256 + host])


def plugin_installed() -> bool:
    return apps.is_installed("wagtail_loginlimit")


def axes_installed() -> bool:
    return apps.is_installed("axes")


def ensure_admin() -> Any:
    """The superuser every benchmark logs in as (created on first use)."""
    User = get_user_model()
    user = User.objects.filter(username=ADMIN).first()
    if user is None:
        user = User.objects.create_superuser(ADMIN, "admin@example.com", PASSWORD)
    return user


def client() -> Client:
    return Client()


def login(
    http: Client, username: str, password: str, address: str, *, expect: int | None
):
    """POST the admin login form from `address`; check the status if `expect`."""
    response = http.post(
        LOGIN_URL, {"username": username, "password": password}, REMOTE_ADDR=address
    )
    if expect is not None and response.status_code != expect:
        raise AssertionError(
            f"login as {username!r} from {address}: expected HTTP {expect}, "
            f"got {response.status_code}"
        )
    return response


def lock_out(username: str, address: str, failures: int = 4) -> None:
    """Fail `failures` times (the limit) so that the client is locked out, and
    check that the next try is refused."""
    http = client()
    for _ in range(failures):
        login(http, username, WRONG_PASSWORD, address, expect=None)
    login(http, username, WRONG_PASSWORD, address, expect=429)


def logged_in_admin() -> Client:
    http = client()
    # The login-limiting backends come first and log nobody in themselves.
    http.force_login(ensure_admin(), backend=MODEL_BACKEND)
    return http
