"""What an attempt's outcome does: a failure is counted (and may lock the client
out, and deactivate the account), a success forgives, an attempt with neither
gives its reserved try back.

Every entry point reports here after asking `decision.decide()`: a failed login
goes handler → `record_failure` → store → events, and never back up.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

from axes.models import AccessFailureLog
from axes.signals import user_locked_out
from django.db import DatabaseError
from django.utils import timezone

from . import (
    accounts,
    attack,
    denied,
    events,
    known_devices,
    notifications,
    policy,
    security_log,
    storage,
)
from .clients import (
    ACCOUNT_BUDGET,
    LOGIN_ENTRY,
    SCOPE_NETWORK,
    ClientIdentity,
    CounterKey,
    EntryPoint,
)
from .decision import (
    Decision,
    account_budget_key,
    decide,
    ensure_record,
    identity,
    keys_for,
    mark_locked_out,
    network_keys,
    record_of,
)
from .models import KnownDeviceFailure

logger = logging.getLogger(__name__)


def record_failure(
    request: Any,
    username: str | None,
    credentials=None,
    *,
    entry_point: EntryPoint = LOGIN_ENTRY,
    limits: policy.Limits | None = None,
) -> None:
    """A secret was wrong: count it against the client the attempt's decision
    named, record any lockout it starts, and announce both.

    `entry_point` (the login unless said otherwise) is the door it was tried
    at, with `limits` if it has its own; `username` is what the attempt named
    there (an account, an address, a page's restriction)."""
    record = ensure_record(request)
    if not entry_point.is_login:
        judged = record.reserved_by_entry.pop(entry_point.name, None)
        if judged is None or judged.keys != _keys_of(request, username, judged):
            judged = decide(
                request,
                username,
                reserve=False,
                entry_point=entry_point,
                limits=limits,
            )
        if judged.allowed:
            _count(request, record, judged, credentials)
        return
    if record.decision is not None and record.decision.refused:
        request.axes_credentials = credentials  # for axes' lockout response
        return  # refused tries are neither counted nor logged
    if record.challenge == "refused":
        return  # no challenge passed: no password was checked (`challenge`)
    # The try reserved just before the secret was checked, else a fresh look
    # (the entry point did not ask first, or the client was not counted).
    judged = record.reserved or decide(request, username, reserve=False)
    if judged.refused:
        return
    _count(request, record, judged, credentials)


def _keys_of(request, username: str | None, judged: Decision):
    """The keys `judged`'s entry point counts `username` under: a reservation
    settles a failure only of the key it was made for."""
    if judged.config is None:
        return judged.keys
    client = identity(request, username, judged.config, judged.entry_point)
    return keys_for(client, judged.config, judged.entry_point)


def _count(request, record, judged: Decision, credentials) -> None:
    if judged.config is None or not judged.config.enabled or judged.client is None:
        return
    client, config = judged.client, judged.config
    entry_point = judged.entry_point
    if not judged.counted:
        # Whitelisted, or allowed unprotected while the store is down.
        write_failure_log(request, client, locked_out=False, entry_point=entry_point)
        return
    now = timezone.now()
    rules = judged.rules
    try:
        result = shown = storage.record_failure(list(judged.keys), client, now, rules)
        if entry_point.is_login and denied.is_denied(client, config):
            result = denied.lock_out(list(judged.keys), client, now, rules, shown)
    except storage.StoreUnavailable as error:
        # The store went away between the check and the secret: the reserved
        # try lapses by itself (policy.PENDING_TTL).
        record.reserved = record.decision = None  # nothing to tell the person
        storage.log_store_error(error.store, error, "failed login not counted")
        write_failure_log(request, client, locked_out=False, entry_point=entry_point)
        return
    if entry_point.is_login:
        record.reserved = None
    # The page shows what this one failure did (`shown`); a denied name's
    # lockout is only seen at the next try (see `denied`).
    locked = bool(shown.lockouts)
    security_log.log_failure(
        client,
        result.failures,
        0 if result.lockouts else result.tries_left,
        entry_point=entry_point.name,
    )
    if locked:
        verdict = policy.Verdict(
            policy.LOCKED,
            0,
            max(lockout.ends_at for lockout in shown.lockouts),
            any(lockout.is_long for lockout in shown.lockouts),
        )
        if entry_point.is_login:
            mark_locked_out(request)  # axes' middleware answers with the page
            request.axes_credentials = credentials
    else:
        verdict = policy.Verdict(
            policy.ALLOWED, shown.tries_left, wait_until=shown.wait_until
        )
    record.decision = replace(judged, reason=verdict.status, now=now, verdict=verdict)
    row = write_failure_log(
        request, client, locked_out=bool(result.lockouts), entry_point=entry_point
    )
    _announce_failure(request, client, config, rules, result, entry_point)
    if entry_point.is_login:
        # The site's rate (attack mode), as of now: the failure log row just
        # written is stamped after this attempt's `now`.
        attack.observe(config, request=request)
    if entry_point.is_login and judged.device is not None:
        # The owner's own browser: never a step towards deactivation.
        _mark_known_device_failure(row)
    elif entry_point.is_login:
        # Per account, whatever the lockout method: spends its budget, and
        # may deactivate it.
        _spend_account_budget(client, config, now)
        accounts.deactivate_if_due(client, config, request)


def _spend_account_budget(client: ClientIdentity, config, now) -> None:
    """One more failure against the account the attempt names, from an
    unknown device (`account_budget`). A name nobody has gets a count too, as
    it would under `lockout_method = "username"`: looking the account up
    would cost a query that tells existing names apart."""
    if not client.username or not config.account_budget_size:
        return
    try:
        storage.record_failure(
            [account_budget_key(client)], client, now, config.account_budget_limits
        )
    except storage.StoreUnavailable as error:
        storage.log_store_error(error.store, error, "account budget not counted")


def _mark_known_device_failure(row: AccessFailureLog | None) -> None:
    if row is None:
        return
    try:
        KnownDeviceFailure.objects.create(failure=row)
    except DatabaseError:
        logger.exception("Could not mark a failed login as a known device's.")


def _announce_failure(
    request,
    client,
    config,
    rules: policy.Limits,
    result: storage.FailureResult,
    entry_point: EntryPoint,
) -> None:
    events.emit(
        events.LoginLimitEvent(
            kind=events.INSERT,
            ip_address=client.ip_address,
            username=client.raw_username,
            failure_count=result.failures,
            lockout_count=policy.lockout_count(result.failures, rules),
            request=request,
            entry_point=entry_point.name,
        )
    )
    for lockout in result.lockouts:
        notifications.notify_lockout(lockout, client, config, request)
        if entry_point.is_login:
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


def record_entry_success(
    request: Any,
    key: str | None,
    entry_point: EntryPoint,
    limits: policy.Limits | None = None,
) -> None:
    """The secret of `entry_point` was right: forgive the failures this client
    made there against `key` (in that entry point's namespace, and nothing
    else: see `_forgive`), and settle the try reserved for it."""
    record = ensure_record(request)
    reserved = record.reserved_by_entry.pop(entry_point.name, None)
    if record.store_down is not None:
        return
    judged = decide(request, key, reserve=False, entry_point=entry_point, limits=limits)
    if judged.config is None or not judged.config.enabled or not judged.keys:
        return
    if judged.client is None:
        return
    try:
        forgiven = _forgive(list(judged.keys), judged.client, judged.rules, reserved)
    except storage.StoreUnavailable as error:
        storage.log_store_error(error.store, error, "count not reset after a success")
        return
    for failures in forgiven:
        events.emit(
            events.LoginLimitEvent(
                kind=events.RESET,
                ip_address=judged.client.ip_address,
                username=judged.client.raw_username,
                failure_count=failures,
                reason=events.REASON_LOGIN,
                request=request,
                entry_point=entry_point.name,
            )
        )


def record_success(request: Any, user) -> None:
    """`user` signed in: forgive the failures made against that account (see
    `_forgive`) and settle its try."""
    record = ensure_record(request)
    reserved, record.reserved = record.reserved, None
    if record.store_down is not None:
        return  # nothing could be counted; the count lapses on its own
    judged = decide(request, user.get_username(), reserve=False)
    if judged.config is None or not judged.config.enabled or judged.client is None:
        return
    client = identity(request, user.get_username(), judged.config)
    _remember_device(request, record, user, judged.device)
    keys = keys_for(client, judged.config, device=judged.device)
    if not keys:
        return
    if judged.device is None:  # a known device has its own counter alone
        keys = (*keys, *network_keys(client, judged.config))
    if judged.config.account_budget_size:
        # The account's own failures are forgiven, its budget with them.
        keys = (*keys, account_budget_key(client))
    try:
        forgiven = _forgive(list(keys), client, judged.config.limits, reserved)
    except storage.StoreUnavailable as error:
        # The person is signed in either way; the count lapses on its own.
        storage.log_store_error(error.store, error, "count not reset after a login")
        return
    for failures in forgiven:
        event = events.LoginLimitEvent(
            kind=events.RESET,
            ip_address=client.ip_address,
            username=client.raw_username,
            failure_count=failures,
            reason=events.REASON_LOGIN,
            request=request,
        )
        event.user = user
        events.emit(event)


def _remember_device(request, record, user, device) -> None:
    """Make the browser a known device of the account (a new token, sent by
    `LoginLimitMiddleware` with the response). Never breaks the login."""
    cookie = known_devices.remember_or_log(request, user, device)
    if cookie is not None:
        record.extra[known_devices.COOKIE_NAME] = cookie


def _forgive(
    keys: list[CounterKey],
    client: ClientIdentity,
    rules: policy.Limits,
    reserved: Decision | None,
) -> list[int]:
    """Forgive `client`'s account what it is owed on `keys`, and return the
    failures each counter forgave (none where nothing was counted).

    A counter of the account alone (username, or IP and username) is cleared
    and its lockout lifted, as an unlock would. The counters of an IP and of
    a network also count guesses against other accounts: they forgive only
    this account's share and keep any lockout, so owning one account earns no
    tries against another. The try `reserved` for this login is given back
    there (a cleared counter has none left). A network's count is forgiven
    quietly: the reset hook hears of the client's own counters, once each."""
    now = timezone.now()
    whole = [key for key in keys if key.scope not in storage.SHARED_SCOPES]
    shared = [key for key in keys if key.scope in storage.SHARED_SCOPES]
    forgiven: list[int] = []
    if whole:
        result = storage.clear_and_lift(keys=whole, reason=events.REASON_LOGIN)
        for counter in result.counters:
            if counter.entry_point == ACCOUNT_BUDGET:
                continue  # the budget is forgiven quietly, as a network is
            state = policy.refresh(storage.counter_state(counter), now, rules)
            if state.failures:  # else nothing counted, or already forgotten
                forgiven.append(counter.failures)
    if shared:
        release = reserved is not None and set(shared) <= set(reserved.keys)
        forgiven += [
            item.failures
            for item in storage.forgive(
                shared, client.username, now, rules, release=release
            )
            if item.key.scope != SCOPE_NETWORK
        ]
    return forgiven


def release_unsettled(request: Any) -> None:
    """Give back the tries `decide(reserve=True)` reserved if the request ended
    without a failure or a success, so that `authenticate()`-only logins (API
    authentication) and entry points that never reported use up no tries."""
    record = record_of(request)
    if record is None:
        return
    unsettled = list(record.reserved_by_entry.values())
    record.reserved_by_entry.clear()
    if record.reserved is not None:
        unsettled.append(record.reserved)
        record.reserved = None
    for reserved in unsettled:
        try:
            storage.release(list(reserved.keys), timezone.now(), reserved.rules)
        except storage.StoreUnavailable as error:
            storage.log_store_error(
                error.store, error, "a reserved try lapses on its own"
            )
        except DatabaseError:
            logger.exception("Could not give back a reserved try; it lapses soon.")


def has_unsettled(request: Any) -> bool:
    record = record_of(request)
    return record is not None and (
        record.reserved is not None or bool(record.reserved_by_entry)
    )


def write_failure_log(
    request, client, *, locked_out: bool, entry_point: EntryPoint = LOGIN_ENTRY
) -> AccessFailureLog | None:
    """One row in django-axes' failure log (what the reports and deactivation
    read) per counted or whitelisted failure; refused tries have none. Another
    entry point's key (an address, a restriction) is no username: its rows
    have none, so that they never count towards an account's deactivation;
    their path says where they were tried. Returns the row (None if it could
    not be written)."""
    try:
        return AccessFailureLog.objects.create(
            username=client.raw_username if entry_point.is_login else None,
            ip_address=client.ip_address,
            user_agent=getattr(request, "axes_user_agent", "")[:255],
            http_accept=getattr(request, "axes_http_accept", "")[:1025],
            path_info=getattr(request, "axes_path_info", "")[:255],
            attempt_time=getattr(request, "axes_attempt_time", None) or timezone.now(),
            locked_out=locked_out,
        )
    except DatabaseError:
        logger.exception("Could not write the failed login to axes' failure log.")
        return None
