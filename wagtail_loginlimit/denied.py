"""`deny_usernames`: names no real account uses (`admin`, `root`…). A failed
login naming one is a sure sign of an attacker, so its failure counts as
enough failures to reach the next lockout of the client's IP, whatever the
lockout method: the lockout schedule, long lockouts, events, security log lines
and fail2ban all work as for any other lockout.

What the attacker sees must not tell it that the name is denied, or it would
simply stop using it: the response to that failure is the one an ordinary
failure would get (the same "attempts remaining" page, or the lockout page if
this one failure would have locked the client out anyway); the lockout page
comes with its next try, which is refused before any password is checked.

The password of a denied name is checked as any other: `authenticate()` runs
its normal course, and Django's `ModelBackend` hashes the password once for a
name without an account, so the time taken is that of an unknown name's
failure. Skipping the check would save nothing worth having and make denied
names answer faster than other unknown names. A denied name that does belong
to an account (refused by the settings form, reported by check W032) can
still sign in with its password; only its failures lock the client out.
"""

from __future__ import annotations

from datetime import datetime

from . import policy, storage
from .clients import SCOPE_NETWORK, ClientIdentity, CounterKey
from .conf import Config
from .decision import ip_key


def is_denied(client: ClientIdentity, config: Config) -> bool:
    """Whether the attempt names a denied username (normalised, as counted)."""
    return config.deny_usernames.has_username(client.username)


def lock_out(
    keys: list[CounterKey],
    client: ClientIdentity,
    now: datetime,
    limits: policy.Limits,
    first: storage.FailureResult,
) -> storage.FailureResult:
    """After `first` (the attempt's own failure, already recorded on `keys`)
    count more failures on the client's IP until its next lockout begins, and
    return what they all did together.

    The IP, whatever the lockout method: under `username` or
    `ip_and_username` a lockout of the denied name would cost the attacker
    nothing (it moves on to the next name) and a lockout by a real account's
    name must never come from a denied one, so the name's and the pair's
    counters get only this try, as for any failure; the IP gets enough
    failures to lock it out (`decision.ip_guard_keys` reads it at the next
    try). The network's counter gets the same extra failures as the IP.
    At most `allowed_retries` more, each its own transaction, as many
    failures in a row would be."""
    ip = ip_key(client)
    if ip not in keys and not client.ip_group:
        return first  # no address to lock out
    more = [ip, *(key for key in keys if key.scope == SCOPE_NETWORK)]
    result = first
    lockouts = list(first.lockouts)
    counted = ip in keys  # the try itself already counted on the IP
    for _more in range(limits.allowed_retries - counted):
        if counted and any(lockout.key == ip.digest for lockout in lockouts):
            break
        step = storage.record_failure(more, client, now, limits)
        counted = True
        lockouts += step.lockouts
        result = storage.FailureResult(
            failures=max(result.failures, step.failures),
            tries_left=min(result.tries_left, step.tries_left),
            lockouts=lockouts,
        )
    return result
