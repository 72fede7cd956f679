"""What an attempt's outcome does: a failure is counted (and may lock the client
out, and deactivate the account), a success forgives, an attempt with neither
gives its reserved try back.

Every entry point reports here after asking `decision.decide()`: a failed login
goes handler → `record_failure` → store → events, and never back up.
"""

from __future__ import annotations

import logging
from typing import Any

from axes.models import AccessFailureLog
from axes.signals import user_locked_out
from django.db import DatabaseError
from django.utils import timezone

from . import accounts, events, notifications, policy, security_log, storage
from .decision import (
    Decision,
    decide,
    ensure_record,
    identity,
    keys_for,
    mark_locked_out,
    record_of,
)

logger = logging.getLogger(__name__)


def record_failure(request: Any, username: str | None, credentials=None) -> None:
    """A secret was wrong: count it against the client the attempt's decision
    named, record any lockout it starts, and announce both."""
    record = ensure_record(request)
    if record.decision is not None and record.decision.refused:
        request.axes_credentials = credentials  # for axes' lockout response
        return  # refused tries are neither counted nor logged
    # The try reserved just before the secret was checked, else a fresh look
    # (the entry point did not ask first, or the client was not counted).
    judged = record.reserved or decide(request, username, reserve=False)
    if judged.refused:
        return
    _count(request, record, judged, credentials)


def _count(request, record, judged: Decision, credentials) -> None:
    if judged.config is None or not judged.config.enabled or judged.client is None:
        return
    client, config = judged.client, judged.config
    if not judged.counted:
        # Whitelisted, or allowed unprotected while the store is down.
        write_failure_log(request, client, locked_out=False)
        return
    now = timezone.now()
    try:
        result = storage.record_failure(list(judged.keys), client, now, config.limits)
    except storage.StoreUnavailable as error:
        # The store went away between the check and the secret: the reserved
        # try lapses by itself (policy.PENDING_TTL).
        record.reserved = record.decision = None  # nothing to tell the person
        storage.log_store_error(error.store, error, "failed login not counted")
        write_failure_log(request, client, locked_out=False)
        return
    record.reserved = None
    locked = bool(result.lockouts)
    security_log.log_failure(
        client, result.failures, 0 if locked else result.tries_left
    )
    if locked:
        verdict = policy.Verdict(
            policy.LOCKED,
            0,
            max(lockout.ends_at for lockout in result.lockouts),
            any(lockout.is_long for lockout in result.lockouts),
        )
        mark_locked_out(request)  # axes' middleware answers with the page
        request.axes_credentials = credentials
    else:
        verdict = policy.Verdict(policy.ALLOWED, result.tries_left)
    record.decision = Decision(
        verdict.status, now, client, judged.keys, verdict, config
    )
    write_failure_log(request, client, locked_out=locked)
    _announce_failure(request, client, config, result)
    # Per account, whatever the lockout method: may deactivate it.
    accounts.deactivate_if_due(client, config, request)


def _announce_failure(request, client, config, result: storage.FailureResult) -> None:
    events.emit(
        events.LoginLimitEvent(
            kind=events.INSERT,
            ip_address=client.ip_address,
            username=client.raw_username,
            failure_count=result.failures,
            lockout_count=policy.lockout_count(result.failures, config.limits),
            request=request,
        )
    )
    for lockout in result.lockouts:
        notifications.notify_lockout(lockout, client, config, request)
        user_locked_out.send(
            "axes",
            request=request,
            username=client.raw_username,
            ip_address=client.ip_address,
        )
        events.emit(
            events.LoginLimitEvent.for_lockout(
                events.BLOCK,
                lockout,
                reason=lockout.scope,
                request=request,
                ip_address=client.ip_address,
                username=client.raw_username,
            )
        )


def record_success(request: Any, user) -> None:
    """`user` signed in: forgive the client's failures (the counters of its IP
    and of the account's name under the lockout method) and settle its try."""
    record = ensure_record(request)
    record.reserved = None
    if record.store_down is not None:
        return  # nothing could be counted; the count lapses on its own
    judged = decide(request, user.get_username(), reserve=False)
    if judged.config is None or not judged.config.enabled or judged.client is None:
        return
    client = identity(request, user.get_username(), judged.config)
    keys = keys_for(client, judged.config)
    if not keys:
        return
    try:
        result = storage.clear_and_lift(keys=list(keys), reason=events.REASON_LOGIN)
    except storage.StoreUnavailable as error:
        # The person is signed in either way; the count lapses on its own.
        storage.log_store_error(error.store, error, "count not reset after a login")
        return
    now = timezone.now()
    limits = judged.config.limits
    for counter in result.counters:
        state = policy.refresh(storage.counter_state(counter), now, limits)
        if not state.failures:  # nothing counted, or already forgotten
            continue
        event = events.LoginLimitEvent(
            kind=events.RESET,
            ip_address=client.ip_address,
            username=client.raw_username,
            failure_count=counter.failures,
            reason=events.REASON_LOGIN,
            request=request,
        )
        event.user = user
        events.emit(event)


def release_unsettled(request: Any) -> None:
    """Give back the try `decide(reserve=True)` reserved if the request ended
    without a failure or a login, so that `authenticate()`-only logins (API
    authentication) use up no tries."""
    record = record_of(request)
    if record is None or record.reserved is None:
        return
    reserved, record.reserved = record.reserved, None
    try:
        storage.release(list(reserved.keys), timezone.now(), reserved.config.limits)
    except storage.StoreUnavailable as error:
        storage.log_store_error(error.store, error, "a reserved try lapses on its own")
    except DatabaseError:
        logger.exception("Could not give back a reserved login try; it lapses soon.")


def write_failure_log(request, client, *, locked_out: bool) -> None:
    """One row in django-axes' failure log (what the reports and deactivation
    read) per counted or whitelisted failure; refused tries have none."""
    try:
        AccessFailureLog.objects.create(
            username=client.raw_username,
            ip_address=client.ip_address,
            user_agent=getattr(request, "axes_user_agent", "")[:255],
            http_accept=getattr(request, "axes_http_accept", "")[:1025],
            path_info=getattr(request, "axes_path_info", "")[:255],
            attempt_time=getattr(request, "axes_attempt_time", None) or timezone.now(),
            locked_out=locked_out,
        )
    except DatabaseError:
        logger.exception("Could not write the failed login to axes' failure log.")
