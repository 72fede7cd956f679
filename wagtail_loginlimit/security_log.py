"""Log lines for operators and fail2ban: one per failure, one per lockout.

The client IP comes first, from the server's own view of the request; everything
user-supplied is JSON-escaped, so a username holding a newline or a forged
"failure from …" can neither start a new line nor close its quotes.
"""

from __future__ import annotations

import json
import logging

from .clients import Client

logger = logging.getLogger("wagtail_loginlimit.security")


def quote(value: str | None) -> str:
    """User text as one escaped, quoted token (control characters as \\n, \\u0000…)."""
    return json.dumps(value or "", ensure_ascii=True)


def log_failure(client: Client, failures: int, tries_left: int) -> None:
    logger.warning(
        "loginlimit failure ip=%s user=%s failures=%d remaining=%d",
        client.ip_address or "-",
        quote(client.raw_username),
        failures,
        tries_left,
    )


def log_lockout(
    client: Client, scope: str, ends_at, is_long: bool, failures: int
) -> None:
    logger.warning(
        "loginlimit lockout ip=%s user=%s by=%s until=%s long=%s failures=%d",
        client.ip_address or "-",
        quote(client.raw_username),
        scope,
        ends_at.isoformat(timespec="seconds"),
        "yes" if is_long else "no",
        failures,
    )


def log_refused(client: Client, reason: str) -> None:
    logger.info(
        "loginlimit refused ip=%s user=%s reason=%s",
        client.ip_address or "-",
        quote(client.raw_username),
        reason,
    )
