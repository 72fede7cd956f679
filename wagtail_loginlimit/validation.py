"""Parsing and validation of every configurable value, shared by the settings
form, the `WAGTAIL_LOGINLIMIT` Django setting and the system checks, so that a bad
value gets the same clear message wherever it is typed."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .clients import METHODS, normalize_username, parse_ip

NOTIFY_CHOICES = ("", "log", "email", "log,email")

# The longest duration accepted anywhere: beyond it `now + duration` can leave
# the range of `datetime` and turn a login into a 500.
MAX_DURATION = timedelta(days=3650)
MAX_DURATION_SECONDS = int(MAX_DURATION.total_seconds())
NOTIFY_CHANNELS = ("log", "email")

# A line that looks like an address or network must parse as one: "10.0.0.0/33"
# is a typo to report, not a username to whitelist.
_LOOKS_LIKE_IP = re.compile(r"^[0-9.]+$|[:/]")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class AccessList:
    """Parsed whitelist or blacklist: networks (single IPs are /32 or /128) and
    normalised usernames."""

    networks: tuple[Network, ...] = ()
    usernames: frozenset[str] = field(default_factory=frozenset)
    lines: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.networks or self.usernames)

    def has_ip(self, ip_address: str | None) -> bool:
        address = parse_ip(ip_address)
        if address is None:
            return False
        return any(
            address.version == net.version and address in net for net in self.networks
        )

    def has_username(self, username: str) -> bool:
        return bool(username) and username in self.usernames


def split_lines(value: str | Iterable[str] | None) -> list[str]:
    """A list setting as its entries: text one per line (or comma-separated), or
    a list of strings; blanks and `#` comments dropped."""
    if value is None:
        return []
    if isinstance(value, str):
        items = re.split(r"[\r\n,]+", value)
    elif isinstance(value, Iterable):
        items = []
        for item in value:
            if not isinstance(item, str):
                raise ValidationError(
                    _("Each entry must be text, not %(value)r."),
                    code="invalid",
                    params={"value": item},
                )
            items.append(item)
    else:
        raise ValidationError(
            _("Expected a list of strings or one entry per line."), code="invalid"
        )
    entries = []
    for item in items:
        item = item.split("#", 1)[0].strip()
        if item:
            entries.append(item)
    return entries


def parse_access_list(
    value, *, allow_usernames: bool, strict: bool = True
) -> AccessList:
    """Parse whitelist/blacklist entries; the error names every bad entry. With
    `strict=False` bad entries are skipped (values already stored)."""
    networks: list[Network] = []
    usernames: set[str] = set()
    errors = []
    entries = split_lines(value)
    for number, entry in enumerate(entries, start=1):
        if _LOOKS_LIKE_IP.search(entry) or not allow_usernames:
            try:
                network = ipaddress.ip_network(entry, strict=False)
            except ValueError:
                errors.append(
                    ValidationError(
                        _(
                            "Entry %(number)s, “%(entry)s”, is not a valid IP address "
                            "or CIDR range."
                        ),
                        code="invalid_ip",
                        params={"number": number, "entry": entry[:100]},
                    )
                )
                continue
            if isinstance(network, ipaddress.IPv6Network) and network.prefixlen >= 96:
                mapped = network.network_address.ipv4_mapped
                if mapped is not None:
                    network = ipaddress.ip_network(
                        f"{mapped}/{network.prefixlen - 96}", strict=False
                    )
            networks.append(network)
        else:
            usernames.add(normalize_username(entry))
    if errors and strict:
        raise ValidationError(errors)
    return AccessList(tuple(networks), frozenset(usernames), tuple(entries))


def parse_username_list(value) -> AccessList:
    """`deny_usernames`: usernames only, one per line (or a list of strings),
    normalised like every counted username; nothing is read as an address."""
    entries = split_lines(value)
    usernames = frozenset(normalize_username(entry) for entry in entries)
    return AccessList((), usernames, tuple(entries))


def parse_duration(value, *, label: str = "") -> timedelta:
    """A duration: seconds as int, or a `timedelta`; at least one second."""
    if isinstance(value, bool):
        raise ValidationError(
            _("%(label)s must be a number of seconds or a timedelta."),
            code="invalid",
            params={"label": label or _("This duration")},
        )
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int):
        seconds = value
    elif isinstance(value, str) and value.strip().isdigit():
        seconds = int(value.strip())
    else:
        raise ValidationError(
            _("%(label)s must be a number of seconds or a timedelta, not %(value)r."),
            code="invalid",
            params={"label": label or _("This duration"), "value": value},
        )
    if seconds < 1 or seconds != int(seconds):
        raise ValidationError(
            _("%(label)s must be a whole number of seconds, at least 1."),
            code="min_value",
            params={"label": label or _("This duration")},
        )
    try:
        duration = timedelta(seconds=int(seconds))
    except OverflowError:  # beyond what `timedelta` holds (about 2.7 million years)
        raise too_long(label) from None
    if duration > MAX_DURATION:
        raise too_long(label)
    return duration


def too_long(label: str = "") -> ValidationError:
    """The error for a duration above `MAX_DURATION`."""
    return ValidationError(
        _("%(label)s can be at most %(days)s days (%(seconds)s seconds)."),
        code="max_value",
        params={
            "label": label or _("This duration"),
            "days": MAX_DURATION.days,
            "seconds": MAX_DURATION_SECONDS,
        },
    )


def parse_count(value, *, minimum: int, label: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value.strip())
        else:
            raise ValidationError(
                _("%(label)s must be a whole number, not %(value)r."),
                code="invalid",
                params={"label": label or _("This value"), "value": value},
            )
    if value < minimum:
        raise ValidationError(
            _("%(label)s must be at least %(minimum)s."),
            code="min_value",
            params={"label": label or _("This value"), "minimum": minimum},
        )
    return value


def parse_prefix(value, *, maximum: int, label: str = "") -> int:
    """A network size in bits: 1 to 32 (IPv4) or 1 to 128 (IPv6)."""
    prefix = parse_count(value, minimum=1, label=label)
    if prefix > maximum:
        raise ValidationError(
            _("%(label)s must be between 1 and %(maximum)s."),
            code="max_value",
            params={"label": label or _("This value"), "maximum": maximum},
        )
    return prefix


def parse_bool(value, *, label: str = "") -> bool:
    if isinstance(value, bool):
        return value
    raise ValidationError(
        _("%(label)s must be True or False, not %(value)r."),
        code="invalid",
        params={"label": label or _("This value"), "value": value},
    )


def parse_method(value) -> str:
    if value not in METHODS:
        raise ValidationError(
            _("Lockout method must be one of %(choices)s, not %(value)r."),
            code="invalid_choice",
            params={"choices": ", ".join(METHODS), "value": value},
        )
    return value


def parse_notify(value) -> tuple[str, ...]:
    """`''`, `log`, `email` or `log,email` (in any order) as a tuple of channels."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(
            _("Lockout notification must be text such as 'log,email', not %(value)r."),
            code="invalid",
            params={"value": value},
        )
    channels = [part.strip() for part in value.split(",") if part.strip()]
    unknown = [part for part in channels if part not in NOTIFY_CHANNELS]
    if unknown or len(set(channels)) != len(channels):
        raise ValidationError(
            _(
                "Lockout notification must be empty, 'log', 'email' or 'log,email', "
                "not %(value)r."
            ),
            code="invalid_choice",
            params={"value": value},
        )
    return tuple(sorted(channels, key=NOTIFY_CHANNELS.index))


DIGEST_FREQUENCIES = ("daily", "weekly")


def parse_digest(value) -> str:
    """`''` (no digest), `daily` or `weekly`."""
    text = "" if value is None else value
    if isinstance(text, str):
        text = text.strip().lower()
    if text != "" and text not in DIGEST_FREQUENCIES:
        raise ValidationError(
            _("The digest must be empty, 'daily' or 'weekly', not %(value)r."),
            code="invalid_choice",
            params={"value": value},
        )
    return text


def check_consistency(values: dict) -> dict[str, ValidationError]:
    """Rules between keys; returns errors by key."""
    errors = {}
    lockout = values.get("lockout_duration")
    valid = values.get("valid_duration")
    if isinstance(lockout, timedelta) and isinstance(valid, timedelta):
        if valid <= lockout:
            errors["valid_duration"] = ValidationError(
                _(
                    "The count must be kept longer than a lockout lasts, or repeat "
                    "offenders never reach a long lockout: make this longer than the "
                    "lockout duration."
                ),
                code="too_short",
            )
    for version in ("ipv4", "ipv6"):
        client = values.get(f"{version}_prefix")
        network = values.get(f"{version}_network_prefix")
        if isinstance(client, int) and isinstance(network, int) and network > client:
            errors[f"{version}_network_prefix"] = ValidationError(
                _(
                    "A network must be at least as large as a client: make this "
                    "prefix at most %(prefix)s (the %(key)s), not %(value)s."
                ),
                code="too_small",
                params={"prefix": client, "key": f"{version}_prefix", "value": network},
            )
    base = values.get("progressive_delay_base")
    cap = values.get("progressive_delay_max")
    if isinstance(base, timedelta) and isinstance(cap, timedelta) and cap < base:
        errors["progressive_delay_max"] = ValidationError(
            _(
                "The longest progressive delay must be at least its first one "
                "(progressive_delay_base)."
            ),
            code="too_short",
        )
    return errors
