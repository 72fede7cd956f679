"""What one login costs: failed (a real password check), successful, and refused
(the client is locked out, so no password is checked)."""

from __future__ import annotations

import itertools
from typing import Any

from benchmarks import measure, site


def run(params: dict[str, Any]) -> dict[str, Any]:
    repeat, warmup = params["repeat"], params["warmup"]
    site.ensure_admin()
    addresses = (site.ip(n) for n in itertools.count(params.get("ip_offset", 0)))
    http = site.client()

    # A failure from a new address each time: never a lockout, always a check.
    failed = measure.median_time(
        lambda: site.login(
            http, site.ADMIN, site.WRONG_PASSWORD, next(addresses), expect=200
        ),
        repeat,
        warmup,
    )

    # A login that succeeds, with a new session each time.
    fresh = {}

    def new_session():
        fresh["client"] = site.client()

    successful = measure.median_time(
        lambda: site.login(
            fresh["client"], site.ADMIN, site.PASSWORD, next(addresses), expect=302
        ),
        repeat,
        warmup,
        setup=new_session,
    )

    # A locked-out client trying again (with the right password, even).
    locked = next(addresses)
    site.lock_out(site.ADMIN, locked)
    refused = measure.median_time(
        lambda: site.login(http, site.ADMIN, site.PASSWORD, locked, expect=429),
        repeat * 5,
        warmup,
    )
    return {"failed": failed, "successful": successful, "refused": refused}
