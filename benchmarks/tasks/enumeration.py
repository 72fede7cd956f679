"""Does the time of a login tell whether an account exists? Refused logins
(under each lockout method) and failed logins, for an existing and a
non-existing username, timed in turns."""

from __future__ import annotations

import itertools
from typing import Any

from django.test import override_settings

from benchmarks import measure, site

METHODS = ["ip", "username", "ip_and_username", "ip_or_username"]


def run(params: dict[str, Any]) -> dict[str, Any]:
    repeat, warmup = params["repeat"], params["warmup"]
    site.ensure_admin()
    addresses = (site.ip(n) for n in itertools.count(params.get("ip_offset", 0)))
    http = site.client()
    results: dict[str, Any] = {}

    for method in METHODS:
        with override_settings(
            WAGTAIL_LOGINLIMIT={"lockout_method": method, "allowed_retries": 4}
        ):
            # Two clients, each locked out: one names the account, one nobody.
            known, unknown = next(addresses), next(addresses)
            site.lock_out(site.ADMIN, known)
            site.lock_out(site.GHOST, unknown)
            results[f"refused_{method}"] = _paired(
                lambda known=known: site.login(
                    http, site.ADMIN, site.WRONG_PASSWORD, known, expect=429
                ),
                lambda unknown=unknown: site.login(
                    http, site.GHOST, site.WRONG_PASSWORD, unknown, expect=429
                ),
                repeat * 5,
                warmup,
            )

    # Failed logins from new addresses (no lockout): Django's ModelBackend hashes
    # the password of an unknown username too, so both cost one hash.
    results["failed"] = _paired(
        lambda: site.login(
            http, site.ADMIN, site.WRONG_PASSWORD, next(addresses), expect=200
        ),
        lambda: site.login(
            http, site.GHOST, site.WRONG_PASSWORD, next(addresses), expect=200
        ),
        repeat * 2,
        warmup,
    )
    return results


def _paired(known, unknown, repeat: int, warmup: int) -> dict[str, float]:
    known_time, unknown_time, ratio = measure.paired_medians(
        known, unknown, repeat, warmup
    )
    return {"known": known_time, "unknown": unknown_time, "ratio": ratio}
