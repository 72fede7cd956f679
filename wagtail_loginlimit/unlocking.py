"""Unlocking: lift lockouts, forget the counts, and announce it — the one place
the admin screens and the `loginlimit_unlock` command both go through, so that
both fire `loginlimit_reset` and write the audit log the same way."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import partial

from django.db import router, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from . import audit_log, events, networks, policy, storage
from .clients import (
    SCOPE_DEVICE,
    SCOPE_IP,
    SCOPE_NETWORK,
    SCOPE_PAIR,
    SCOPE_USERNAME,
    ip_group,
    normalize_username,
    parse_ip,
)
from .conf import get_config
from .models import FailureCounter, Lockout


@dataclass
class UnlockResult:
    """What an unlock did: the lockouts it lifted and the counts it forgot."""

    lockouts: list[Lockout] = field(default_factory=list)
    counters: list[FailureCounter] = field(default_factory=list)

    @property
    def count(self) -> int:
        """How many active lockouts were lifted."""
        return len(self.lockouts)

    @property
    def forgotten(self) -> list[FailureCounter]:
        """The clients' counts that still held failures (not expired)."""
        now = timezone.now()
        limits = get_config().limits
        return [
            counter
            for counter in self.counters
            if policy.refresh(storage.counter_state(counter), now, limits).failures
        ]

    def __bool__(self) -> bool:
        return bool(self.lockouts or self.counters)


def normalize_ip_group(ip: str, ipv6_prefix: int | None = None) -> str:
    """The IP group counters are stored under for `ip`: an IPv4 address, or the
    IPv6 network (of `ipv6_prefix` bits) an IPv6 address or network belongs to.

    Raises `ValueError` with a readable message for anything else."""
    if ipv6_prefix is None:
        ipv6_prefix = get_config().ipv6_prefix
    text = str(ip).strip()
    address = parse_ip(text)
    if address is None and "/" in text:
        try:
            network = ipaddress.ip_network(text, strict=False)
        except ValueError:
            network = None
        # A range is accepted when it is exactly one client: an IPv4 /32, or
        # (part of) the IPv6 network one client is counted under.
        if network is not None and (
            network.num_addresses == 1
            or (network.version == 6 and network.prefixlen >= ipv6_prefix)
        ):
            address = parse_ip(str(network.network_address))
    if address is None:
        raise ValueError(
            _("“%(ip)s” is not an IP address.") % {"ip": text[:100]},
        )
    return ip_group(address, ipv6_prefix)


def _reset_scope(lockout: Lockout) -> dict[str, str]:
    """The `storage.clear_and_lift` arguments that end `lockout` and its client's counts."""
    if lockout.scope in (SCOPE_IP, SCOPE_NETWORK):
        # A network's counter is keyed by its text, as an IP group's is.
        return {"ip_group": lockout.ip_group}
    if lockout.scope == SCOPE_USERNAME:
        return {"username": lockout.username}
    if lockout.scope in (SCOPE_PAIR, SCOPE_DEVICE):
        # A known device's counter is keyed like a pair: its tag, the username.
        return {"ip_group": lockout.ip_group, "username": lockout.username}
    raise ValueError(f"Unknown lockout scope {lockout.scope!r}")


def _scopes_to_reset(lockouts: Iterable[Lockout], now) -> storage.Scopes:
    """The scopes resetting `lockouts` one by one would reset: each still
    active lockout's (`_reset_scope`), except a lockout's that the reset of an
    earlier one already lifts (its counts are among that reset's)."""
    ip_groups: set[str] = set()
    usernames: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    for lockout in lockouts:
        if not (lockout.lifted_at is None and lockout.ends_at > now):
            continue
        if (
            lockout.ip_group in ip_groups
            or lockout.username in usernames
            or (lockout.ip_group, lockout.username) in pairs
        ):
            continue  # the same test as `database.match_q` on the lockout row
        scope = _reset_scope(lockout)
        if "ip_group" in scope and "username" in scope:
            pairs.add((scope["ip_group"], scope["username"]))
        elif "ip_group" in scope:
            ip_groups.add(scope["ip_group"])
        else:
            usernames.add(scope["username"])
    return storage.Scopes(
        ip_groups=frozenset(ip_groups),
        usernames=frozenset(usernames),
        pairs=frozenset(pairs),
    )


def unlock_lockouts(
    lockouts: Iterable[Lockout],
    *,
    by=None,
    reason: str = Lockout.LIFTED_UNLOCK,
    request=None,
) -> int:
    """Lift each of `lockouts` that is still active, forget its client's counts,
    log it and fire `loginlimit_reset`. Returns how many lockouts were lifted
    (lockouts of the same client lifted along with a chosen one count too).

    The clients are reset together, a few queries per `storage.clear_and_lift_many`
    batch rather than per lockout, so that "select all" after an attack ends
    in one request."""
    now = timezone.now()
    scopes = _scopes_to_reset(lockouts, now)
    result = UnlockResult()
    if scopes:
        step = storage.clear_and_lift_many(scopes, reason=reason, by=by, now=now)
        _merge(result, step, set())
    _announce(result, by=by, reason=reason, now=now, request=request)
    return result.count


def normalize_network(text: str) -> str:
    """The network as counters are keyed by it ("198.51.100.7/24" →
    "198.51.100.0/24"); `ValueError` with a readable message otherwise."""
    network = networks.parse_network(str(text))
    if network is None:
        raise ValueError(
            _("“%(network)s” is not a network such as 198.51.100.0/24.")
            % {"network": str(text).strip()[:100]}
        )
    return network


def unlock(
    ip: str | None = None,
    username: str | None = None,
    everything: bool = False,
    *,
    network: str | None = None,
    by=None,
    reason: str = Lockout.LIFTED_UNLOCK,
    request=None,
) -> UnlockResult:
    """Lift the active lockouts and forget the counts of an IP (or IPv6
    network), a username, both together, a `network` (`network_retries`),
    or `everything`.

    With both `ip` and `username`, only counters involving the two together
    (the pair) are cleared. Raises `ValueError` for an unusable IP or when
    nothing is named."""
    now = timezone.now()
    if everything:
        scope: dict = {"everything": True}
    elif network is not None and str(network).strip():
        if ip or username:
            raise ValueError(_("Unlock a network on its own, without an IP or user."))
        scope = {"ip_group": normalize_network(network)}
    else:
        scope = {}
        if ip is not None and str(ip).strip():
            scope["ip_group"] = normalize_ip_group(ip)
        if username is not None and str(username).strip():
            scope["username"] = normalize_username(username)
        if not scope:
            raise ValueError(_("Name an IP address, a username, or everything."))
    step = storage.clear_and_lift(**scope, reason=reason, by=by, now=now)
    result = UnlockResult()
    _merge(result, step, set())
    _announce(result, by=by, reason=reason, now=now, request=request)
    return result


def _merge(result: UnlockResult, step: storage.ResetResult, seen: set[int]) -> None:
    for lockout in step.lockouts:
        if lockout.pk not in seen:
            seen.add(lockout.pk)
            result.lockouts.append(lockout)
    result.counters.extend(step.counters)


def _announce(result: UnlockResult, *, by, reason: str, now, request) -> None:
    """Once the unlock is committed (at once outside a transaction): audit-log
    each lifted lockout and fire one `loginlimit_reset` per lifted lockout, plus
    one per cleared count that still held failures and had no active lockout."""
    if not result:
        return
    for lockout in result.lockouts:
        # storage.clear_and_lift() returns the rows as they were; show them as they are.
        lockout.lifted_at = now
        lockout.lifted_by = by
        lockout.lift_reason = reason
    transaction.on_commit(
        partial(_send, result, by=by, reason=reason, request=request),
        using=router.db_for_write(Lockout),
    )


def _send(result: UnlockResult, *, by, reason: str, request) -> None:
    audit_log.log_unlocks(result.lockouts, by=by, reason=reason)
    # One event per lockout, all of one change (the dashboard redraws once).
    with events.batch():
        _fire_events(result, by=by, reason=reason, request=request)


def _fire_events(result: UnlockResult, *, by, reason: str, request) -> None:
    lifted_keys = {lockout.key for lockout in result.lockouts}
    for lockout in result.lockouts:
        events.emit(
            events.LoginLimitEvent.for_lockout(
                events.RESET, lockout, reason=reason, request=request, by=by
            )
        )
    for counter in result.forgotten:
        if counter.key in lifted_keys:
            continue
        events.emit(
            events.LoginLimitEvent(
                kind=events.RESET,
                # A count of an IPv6 network belongs to no single address.
                ip_address=None
                if "/" in (counter.ip_group or "")
                else (counter.ip_group or None),
                network=counter.ip_group if counter.scope == SCOPE_NETWORK else None,
                username=counter.username or None,
                failure_count=counter.failures,
                reason=reason,
                request=request,
                by=by,
            )
        )
