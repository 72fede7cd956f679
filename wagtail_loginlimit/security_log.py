"""Log lines for operators and fail2ban: one per failure, one per lockout, one per
refused try, on the logger `wagtail_loginlimit.security`.

    loginlimit failure ip=2001:db8:1:2::7 failures=2 remaining=2 entry=login net=2001:db8:1:2::/64 user="bob"
    loginlimit lockout ip=198.51.100.4 by=ip until=2025-05-01T12:20:00+00:00 long=no failures=4 entry=login net=198.51.100.4/32 user="bob"
    loginlimit lockout ip=198.51.100.9 by=network until=2025-05-01T12:20:00+00:00 long=no failures=20 entry=login net=198.51.100.0/24 user="eve"
    loginlimit refused ip=198.51.100.4 reason=locked entry=page_password net=198.51.100.4/32 user="12"
    loginlimit deactivate account="42" user="editor"

Every field before `user=` is written by the server: the IP is the address the
server saw (already parsed as an IP), `net=` the network the plugin counts that
address under (an IPv6 address's /64, or whatever `ipv6_prefix` says; an IPv4
address as a /32, or what `ipv4_prefix` says) — and in a lockout `by=network`
(`network_retries`) the network that was locked out — so that fail2ban can ban
what the plugin counts; `entry=`
the entry point (a name checked by `clients.EntryPoint`: a-z, 0-9 and `_`);
the rest are numbers and fixed words. The username, the only user-supplied text, comes last,
JSON-quoted and ASCII-only, so it can neither start a new line nor put anything
in front of itself. The fail2ban filter in `contrib/fail2ban/` relies on exactly
this order.

The timestamp is the logging formatter's (`%(asctime)s`); `UTCFormatter` writes
it in UTC with a `Z`, which fail2ban reads correctly whatever the server's zone.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import time

from .clients import LOGIN, ClientIdentity

logger = logging.getLogger("wagtail_loginlimit.security")


class UTCFormatter(logging.Formatter):
    """`2025-05-01T12:00:00Z WARNING loginlimit failure …`: ISO 8601 in UTC, so
    that neither Django's `TIME_ZONE` nor the server's zone can shift the times
    fail2ban counts."""

    converter = time.gmtime
    default_format = "%(asctime)s %(levelname)s %(message)s"
    default_datefmt = "%Y-%m-%dT%H:%M:%SZ"

    def __init__(self, fmt: str | None = None, datefmt: str | None = None, **kwargs):
        super().__init__(
            fmt or self.default_format, datefmt or self.default_datefmt, **kwargs
        )


def quote(value: str | None) -> str:
    """User text as one escaped, quoted token (control characters as \\n, \\u0000…)."""
    return json.dumps(value or "", ensure_ascii=True)


def printable(text: str | None) -> str:
    """User text for people (emails, terminals): control and format characters
    (newlines, escape sequences, bidi overrides…) shown as escapes, so a
    username cannot fake lines, colour a terminal or reorder what is shown."""
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        for char in text or ""
    )


def _ip(client: ClientIdentity) -> str:
    return client.ip_address or "-"


def network(client: ClientIdentity, locked: str | None = None) -> str:
    """The network `client` is counted under (or the `locked` network of a
    lockout by network), always with its prefix length (`2001:db8:1:2::/64`,
    `198.51.100.4/32`), or `-` when unknown. Parsed again here, so that only a
    network can ever stand in the `net=` field."""
    try:
        return str(ipaddress.ip_network(locked or client.ip_group))
    except ValueError:
        return "-"


def _entry(name: str) -> str:
    """The entry point's name, or `-` for anything that is not one."""
    return name if name and name.isascii() and name.replace("_", "a").isalnum() else "-"


def log_failure(
    client: ClientIdentity, failures: int, tries_left: int, entry_point: str = LOGIN
) -> None:
    logger.warning(
        "loginlimit failure ip=%s failures=%d remaining=%d entry=%s net=%s user=%s",
        _ip(client),
        failures,
        tries_left,
        _entry(entry_point),
        network(client),
        quote(client.raw_username),
    )


def log_lockout(
    client: ClientIdentity,
    scope: str,
    ends_at,
    is_long: bool,
    failures: int,
    entry_point: str = LOGIN,
    locked_network: str | None = None,
) -> None:
    """One lockout; `locked_network` is the network of a lockout by network."""
    logger.warning(
        "loginlimit lockout ip=%s by=%s until=%s long=%s failures=%d entry=%s "
        "net=%s user=%s",
        _ip(client),
        scope,
        ends_at.isoformat(timespec="seconds"),
        "yes" if is_long else "no",
        failures,
        _entry(entry_point),
        network(client, locked_network),
        quote(client.raw_username),
    )


def log_refused(client: ClientIdentity, reason: str, entry_point: str = LOGIN) -> None:
    logger.info(
        "loginlimit refused ip=%s reason=%s entry=%s net=%s user=%s",
        _ip(client),
        reason,
        _entry(entry_point),
        network(client),
        quote(client.raw_username),
    )


def log_deactivation(account_id, username: str | None) -> None:
    # No `ip=`: the failures came from many addresses, and fail2ban must not
    # ban the last one for it.
    logger.warning(
        "loginlimit deactivate account=%s user=%s",
        quote(str(account_id)),  # a custom user model's text key is user text too
        quote(username),
    )


def log_kept_active(account_id, username: str | None, failures: int) -> None:
    """The last active superuser reached its deactivation threshold and was
    kept active. No `ip=`, as for a deactivation."""
    logger.warning(
        "loginlimit kept_active account=%s user=%s failures=%d",
        quote(str(account_id)),
        quote(username),
        failures,
    )
