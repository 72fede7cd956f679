"""Account deactivation and reactivation.

With `deactivate_after = N`, an existing account is set inactive once
`N × allowed_retries` failed logins named it, from any IPs, with no successful
login in between and none older than the valid window — whatever the lockout
method. The count lives in one `FailureCounter` row per account (scope
`account`), keyed by the account's primary key, so it is independent of the
IP/username counters that decide lockouts, and it is forgotten on a successful
login, after the valid window without a failure, and on reactivation.

Nothing here changes what the login page says: an inactive account fails like
wrong credentials (Django's `ModelBackend` refuses inactive users), so the page
never tells whether an account exists or was deactivated.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import router, transaction
from django.db.models.signals import post_save, pre_save
from django.utils import timezone
from wagtail.log_actions import get_active_log_context

from . import audit_log, events, notifications, policy, unlocking
from .clients import Client, CounterKey, normalize_username
from .conf import Config
from .models import SCOPE_ACCOUNT, Deactivation, FailureCounter, Lockout

logger = logging.getLogger(__name__)

# The reason a `loginlimit_deactivate` event gives.
REASON_FAILURES = "failures"

# Set on a user instance while `reactivate()` saves it, so that the user-model
# signal below does not announce the same reactivation a second time.
_REACTIVATING = "_loginlimit_reactivating"
# Set by `pre_save` when a save turns an inactive account active.
_BECAME_ACTIVE = "_loginlimit_became_active"


# --- looking accounts up ---


def find_user(username: str | None):
    """The account a login names, looked up exactly as Django's `ModelBackend`
    does (`get_by_natural_key`), or None."""
    if not username:
        return None
    User = get_user_model()
    try:
        return User._default_manager.get_by_natural_key(username)
    except (
        User.DoesNotExist,
        User.MultipleObjectsReturned,
        ValidationError,
        ValueError,  # e.g. a numeric USERNAME_FIELD and text input
        TypeError,
    ):
        return None


def can_deactivate() -> bool:
    """Only a user model with an `is_active` field can be deactivated (Django's
    `AbstractBaseUser` alone has a constant `is_active = True`)."""
    return any(
        field.name == "is_active" for field in get_user_model()._meta.concrete_fields
    )


def counter_key(user) -> CounterKey:
    """The account's own counter. Keyed by primary key, so accounts whose usernames
    differ only in case are counted apart and a renamed account keeps its count."""
    return CounterKey(scope=SCOPE_ACCOUNT, ip_group=None, username=f"pk:{user.pk}")


def is_whitelisted(user, config: Config) -> bool:
    return config.whitelist.has_username(normalize_username(user.get_username()))


def deactivated():
    """Deactivation records not reactivated yet, newest first, with their users."""
    return Deactivation.objects.open().select_related("user")


# --- counting and deactivating ---


def record_failure(client: Client, config: Config, request=None) -> Deactivation | None:
    """Count a failed login against the account it named (if that account exists)
    and deactivate the account when the count is due. Costs no query when
    deactivation is off."""
    if not config.deactivate_after or not client.raw_username or not can_deactivate():
        return None
    user = find_user(client.raw_username)
    if user is None or not user.is_active or is_whitelisted(user, config):
        return None
    now = timezone.now()
    due = config.deactivate_after * config.allowed_retries
    with _atomic():
        row = _lock_counter(user)
        state = policy.refresh(
            policy.CounterState(failures=row.failures, last_failure=row.last_failure),
            now,
            config.limits,
        )
        failures = state.failures + 1
        if failures < due:
            row.failures, row.last_failure = failures, now
            row.save(update_fields=["failures", "last_failure"])
            return None
        row.delete()  # the count starts afresh after a deactivation
        user.is_active = False
        user.save(update_fields=["is_active"])
        deactivation = Deactivation.objects.create(
            user=user,
            deactivated_at=now,
            lockout_count=policy.lockout_count(failures, config.limits),
            failure_count=failures,
            ip_address=client.ip_address,
        )
    _announce_deactivation(deactivation, config, request)
    return deactivation


def _lock_counter(user) -> FailureCounter:
    key = counter_key(user).digest
    row = FailureCounter.objects.select_for_update().filter(key=key).first()
    if row is None:
        # Two failures may race to create the row: the loser's insert is ignored.
        FailureCounter.objects.bulk_create(
            [
                FailureCounter(
                    key=key,
                    scope=SCOPE_ACCOUNT,
                    # The username column lets an unlock by username reach it.
                    username=normalize_username(user.get_username()),
                )
            ],
            ignore_conflicts=True,
        )
        row = FailureCounter.objects.select_for_update().get(key=key)
    return row


def _announce_deactivation(deactivation: Deactivation, config: Config, request) -> None:
    user = deactivation.user
    event = events.LoginLimitEvent(
        kind=events.DEACTIVATE,
        ip_address=deactivation.ip_address,
        username=user.get_username(),
        failure_count=deactivation.failure_count,
        lockout_count=deactivation.lockout_count,
        reason=REASON_FAILURES,
        request=request,
    )
    event.user = user
    events.emit(event)
    with _never_breaking_login("audit log"):
        audit_log.log_deactivation(
            user,
            lockout_count=deactivation.lockout_count,
            failure_count=deactivation.failure_count,
        )
    with _never_breaking_login("notification"):
        notifications.notify_deactivation(
            user, config, request, deactivation=deactivation
        )


@contextmanager
def _never_breaking_login(what: str):
    """The account is deactivated either way; a broken audit log or mail server
    is logged instead of turning the login page into a 500."""
    try:
        with _atomic():  # a savepoint, so a failed write leaves the transaction usable
            yield
    except Exception:
        logger.exception("Could not write the %s of an account deactivation.", what)


# --- reactivating ---


def reactivate(
    user, *, by=None, reason: str = Deactivation.REACTIVATED_ADMIN, request=None
) -> bool:
    """Make `user` active again: forget the plugin's counts and lift its lockouts
    for the account, close its deactivation records, fire `loginlimit_reactivate`
    and write the audit log naming `by` (None: the command line).

    Returns False, doing nothing, when the account is already active and has no
    open deactivation record."""
    by = _acting_user(by)
    user.refresh_from_db(fields=["is_active"])
    with _atomic():
        records = _close_records(user, by=by, reason=reason)
        if user.is_active and not records:
            return False
        if not user.is_active:
            user.is_active = True
            setattr(user, _REACTIVATING, True)
            try:
                user.save(update_fields=["is_active"])
            finally:
                delattr(user, _REACTIVATING)
    _forget(user, by=by, request=request)
    _announce_reactivation(user, records, by=by, reason=reason, request=request)
    return True


def _close_records(user, *, by, reason: str) -> list[Deactivation]:
    records = list(Deactivation.objects.open().select_for_update().filter(user=user))
    if records:
        now = timezone.now()
        Deactivation.objects.filter(pk__in=[r.pk for r in records]).update(
            reactivated_at=now,
            reactivated_by=by,
            reactivate_reason=reason,
        )
        for record in records:
            record.reactivated_at, record.reactivated_by = now, by
            record.reactivate_reason = reason
    return records


def _forget(user, *, by, request) -> None:
    """Clear the account's counts and lift its lockouts (announced as unlocks)."""
    FailureCounter.objects.filter(key=counter_key(user).digest).delete()
    if normalize_username(user.get_username()):
        unlocking.unlock(
            username=user.get_username(),
            by=by,
            reason=Lockout.LIFTED_REACTIVATE,
            request=request,
        )


def _announce_reactivation(
    user, records: list[Deactivation], *, by, reason: str, request
) -> None:
    latest = max(records, key=lambda r: r.deactivated_at, default=None)
    event = events.LoginLimitEvent(
        kind=events.REACTIVATE,
        ip_address=latest.ip_address if latest else None,
        username=user.get_username(),
        failure_count=latest.failure_count if latest else 0,
        lockout_count=latest.lockout_count if latest else 0,
        reason=reason,
        request=request,
        by=by,
    )
    event.user = user
    events.emit(event)
    audit_log.log_reactivation(user, by, reason=reason)


def _acting_user(by):
    """`by` as a saved user (unwrapping `request.user`), or None."""
    if by is None or not getattr(by, "is_authenticated", False):
        return None
    wrapped = getattr(by, "_wrapped", by)  # SimpleLazyObject
    return wrapped if getattr(wrapped, "pk", None) is not None else None


def _atomic():
    return transaction.atomic(using=router.db_for_write(Deactivation))


# --- an account made active elsewhere (Wagtail's user editor, the Django admin) ---


def _note_activation(sender, instance, raw=False, update_fields=None, **kwargs):
    """pre_save: remember whether this save turns an inactive account active."""
    if (
        raw
        or instance._state.adding
        or getattr(instance, _REACTIVATING, False)
        or "is_active" in instance.get_deferred_fields()
        or not instance.is_active
        or (update_fields is not None and "is_active" not in update_fields)
    ):
        return
    was_active = (
        sender._base_manager.filter(pk=instance.pk)
        .values_list("is_active", flat=True)
        .first()
    )
    if was_active is False:
        setattr(instance, _BECAME_ACTIVE, True)


def _after_activation(sender, instance, raw=False, **kwargs):
    """post_save: an account made active clears the plugin's counts and lockouts;
    if the plugin had deactivated it, the reactivation is announced, naming the
    admin Wagtail's audit-log context holds."""
    if not instance.__dict__.pop(_BECAME_ACTIVE, False) or raw:
        return
    by = _acting_user(get_active_log_context().user)
    reason = Deactivation.REACTIVATED_USER_EDIT
    with _atomic():
        records = _close_records(instance, by=by, reason=reason)
    _forget(instance, by=by, request=None)
    if records:
        _announce_reactivation(instance, records, by=by, reason=reason, request=None)


def connect_signals() -> None:
    """Called from `AppConfig.ready()`."""
    if not can_deactivate():
        return
    User = get_user_model()
    pre_save.connect(
        _note_activation, sender=User, dispatch_uid="wagtail_loginlimit.accounts.pre"
    )
    post_save.connect(
        _after_activation, sender=User, dispatch_uid="wagtail_loginlimit.accounts.post"
    )
