"""What one login costs: failed (a real password check), successful, and refused
(the client is locked out, so no password is checked). Served to
`benchmarks.run`, which times the plugin's site and plain django-axes' site in
turns (see `benchmarks.worker --serve`)."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from django.contrib.auth.hashers import check_password

from benchmarks import site


def actions(params: dict[str, Any]) -> dict[str, Callable[[], Any]]:
    user = site.ensure_admin()
    addresses = (site.ip(n) for n in itertools.count(params.get("ip_offset", 0)))
    http = site.client()
    locked = next(addresses)
    site.lock_out(site.ADMIN, locked)

    def failed():
        # From a new address each time: never a lockout, always a check.
        site.login(http, site.ADMIN, site.WRONG_PASSWORD, next(addresses), expect=200)

    def successful():
        # In a new session each time (a new test client costs microseconds).
        site.login(
            site.client(), site.ADMIN, site.PASSWORD, next(addresses), expect=302
        )

    def refused():
        # A locked-out client, with the right password even.
        site.login(http, site.ADMIN, site.PASSWORD, locked, expect=429)

    found: dict[str, Callable[[], Any]] = {
        "failed": failed,
        "successful": successful,
        "refused": refused,
        # The two pieces on their own: the password check a refused login
        # skips, and the lockout check it makes instead.
        "password_check": lambda: check_password(site.WRONG_PASSWORD, user.password),
    }
    if site.plugin_installed():
        found["lockout_check"] = _lockout_check(locked)
    return found


def _lockout_check(address: str) -> Callable[[], None]:
    from django.utils import timezone

    from wagtail_loginlimit import storage
    from wagtail_loginlimit.clients import ClientIdentity, counter_keys
    from wagtail_loginlimit.conf import Config

    config = Config()
    keys = counter_keys(
        ClientIdentity.build(address, site.ADMIN), config.lockout_method
    )

    def check():
        if storage.begin_attempt(keys, timezone.now(), config.limits).allowed:
            raise AssertionError(f"{address} should be locked out")

    return check
