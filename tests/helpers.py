"""Failed logins through real requests, as many test modules make them.

Plain functions, not fixtures (those are in conftest.py): each takes the
`login` fixture or a Django test `Client` standing for one browser."""

from __future__ import annotations

from django.test import Client

ADDRESS = "203.0.113.7"  # the `login` fixture's default address
LOGIN = "/admin/login/"
LONG_LOCKOUT = 16  # failures to a long lockout with the default limits


def address_in_own_network(n: int) -> str:
    """The `n`th of 512 IPv4 addresses that each lie in a /24 of their own
    (198.18.0.0/15, the benchmarking range), for failures "from anywhere":
    a distributed attack that no network count (`network_retries`) adds up."""
    return f"198.{18 + n // 256}.{n % 256}.1"


def fail(
    login, times: int, ip: str = ADDRESS, username: str = "editor", **extra
) -> list:
    """`times` wrong passwords for `username` from `ip`; the responses."""
    return [login(username, ip=ip, **extra) for _ in range(times)]


def lock_out(
    login, username: str = "someone", ip: str = ADDRESS, times: int = 4, **extra
):
    """Lock a client out with real failed logins (4 with the default limits);
    the last answer, which must be the lockout (429)."""
    responses = fail(login, times, ip=ip, username=username, **extra)
    assert responses[-1].status_code == 429
    return responses[-1]


def fail_from_many_ips(login, username: str, count: int, start: int = 1) -> None:
    """`count` wrong passwords for `username`, each from a network of its own,
    each answered with the login page (nobody is locked out by it)."""
    for n in range(start, start + count):
        assert login(username, ip=address_in_own_network(n)).status_code == 200


def post(
    browser: Client,
    username: str,
    password: str = "wrong",
    *,
    ip: str,
    path: str = LOGIN,
    **fields,
):
    """One login form sent by `browser` from `ip` (with any further fields)."""
    return browser.post(
        path, {"username": username, "password": password, **fields}, REMOTE_ADDR=ip
    )


def lock_out_by_name(username: str, failures: int = LONG_LOCKOUT) -> None:
    """Failures against `username` from addresses all over the world (no
    network adds up), as a stranger's script makes them."""
    stranger = Client()
    for n in range(failures):
        post(stranger, username, ip=address_in_own_network(n))


def is_active(user) -> bool:
    user.refresh_from_db()
    return user.is_active
