"""SQL queries per request: logins (failed, refused, successful) and requests
that are not logins (an admin page, the admin dashboard, a public page)."""

from __future__ import annotations

import itertools
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from benchmarks import site

# Requests that are not logins: (name, path, logged in as the superuser?).
PAGES = [
    ("admin_page", "/admin/pages/", True),
    ("admin_dashboard", "/admin/", True),
    ("public_page", "/", False),
]


def _count(request) -> int:
    """Queries of the second of two identical requests (the first fills the
    caches that every site has warm: content types, the site root…)."""
    request()
    with CaptureQueriesContext(connection) as queries:
        request()
    return len(queries.captured_queries)


def _count_login(username: str, password: str, expect: int, address) -> int:
    def request():
        site.login(site.client(), username, password, next(address), expect=expect)

    return _count(request)


def run(params: dict[str, Any]) -> dict[str, Any]:
    site.ensure_admin()
    addresses = (site.ip(n) for n in itertools.count(params.get("ip_offset", 0)))
    counts: dict[str, int | None] = {
        "failed": _count_login(site.ADMIN, site.WRONG_PASSWORD, 200, addresses),
        "successful": _count_login(site.ADMIN, site.PASSWORD, 302, addresses),
        "refused": None,
    }
    if site.axes_installed():
        locked = next(addresses)
        site.lock_out(site.ADMIN, locked)
        http = site.client()
        counts["refused"] = _count(
            lambda: site.login(http, site.ADMIN, site.PASSWORD, locked, expect=429)
        )
    admin = site.logged_in_admin()
    anonymous = site.client()
    for name, path, as_admin in PAGES:
        http = admin if as_admin else anonymous

        def get(http=http, path=path):
            response = http.get(path)
            if response.status_code != 200:
                raise AssertionError(f"GET {path}: HTTP {response.status_code}")

        counts[name] = _count(get)
    return counts
