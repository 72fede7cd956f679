"""`deny_usernames`: names no real account uses (`admin`, `root`…). A failed
login naming one is a sure sign of an attacker, so its failure counts as
enough failures to reach the client's next lockout: the lockout schedule, long
lockouts, events, security log lines and fail2ban all work as for any other
lockout.

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
from .clients import ClientIdentity, CounterKey
from .conf import Config


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
    """After `first` (the attempt's own failure, already recorded) count more
    failures until the client's next lockout begins; return what the last one
    did. At most `allowed_retries - 1` more, each its own transaction, as many
    failures in a row would be."""
    result = first
    for _more in range(limits.allowed_retries - 1):
        if result.lockouts:
            break
        result = storage.record_failure(keys, client, now, limits)
    return result
