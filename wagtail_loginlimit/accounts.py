"""Account deactivation and reactivation.

With `deactivate_after = N`, an existing account is set inactive once
`N × allowed_retries` failed logins named it, from any IPs, with no successful
login in between and none older than the valid window — whatever the lockout
method. The failures are counted from django-axes' own failure log
(`AccessFailureLog`, one row per counted failure, written by the handler) in a
real window: rows newer than the latest of `now - valid_duration`, the
account's last login and its last reactivation. Nothing is stored per account
besides axes' log, so an attack on many accounts costs no extra rows.

Nothing here changes what the login page says: an inactive account fails like
wrong credentials (Django's `ModelBackend` refuses inactive users), so the page
never tells whether an account exists or was deactivated. The server does more
work for a failure that names an existing account (a user lookup and a count),
so response times are not guaranteed to be identical.

Announcements (events, audit log, emails) are sent once the transaction that
made the change commits (`transaction.on_commit`): at once outside a
transaction, and never for a change that was rolled back.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from datetime import datetime
from functools import partial

from axes.models import AccessFailureLog
from django.contrib.auth import get_user_model
from django.db import router, transaction
from django.db.models import Max
from django.db.models.signals import post_save, pre_save
from django.utils import timezone
from wagtail.log_actions import get_active_log_context

from . import audit_log, events, notifications, policy, storage, unlocking
from .clients import ClientIdentity, normalize_username
from .conf import Config
from .models import Deactivation, KeptActive, Lockout
from .users import find_user

logger = logging.getLogger(__name__)

# The reason a `loginlimit_deactivate` event gives.
REASON_FAILURES = "failures"

# Set on a user instance while `reactivate()` saves it, so that the user-model
# signal below does not announce the same reactivation a second time.
_REACTIVATING = "_loginlimit_reactivating"
# Set by `pre_save` when a save turns an inactive account active.
_BECAME_ACTIVE = "_loginlimit_became_active"


# --- looking accounts up ---


def can_deactivate() -> bool:
    """Only a user model with an `is_active` field can be deactivated (Django's
    `AbstractBaseUser` alone has a constant `is_active = True`)."""
    return any(
        field.name == "is_active" for field in get_user_model()._meta.concrete_fields
    )


def is_whitelisted(user, config: Config) -> bool:
    return config.whitelist.has_username(normalize_username(user.get_username()))


def deactivated():
    """Deactivation records not reactivated yet, newest first, with their users."""
    return Deactivation.objects.open().select_related("user")


# --- counting and deactivating ---


def window_start(user, now: datetime, config: Config) -> datetime:
    """Failures after this moment count against `user`: the start of the valid
    window, or the account's last login, last reactivation or last time it
    was kept active (the last superuser) if later."""
    last_reactivation = Deactivation.objects.filter(
        user=user, reactivated_at__isnull=False
    ).aggregate(latest=Max("reactivated_at"))["latest"]
    last_kept = KeptActive.objects.filter(user=user).aggregate(latest=Max("at"))[
        "latest"
    ]
    candidates = [
        now - config.valid_duration,
        getattr(user, "last_login", None),
        last_reactivation,
        last_kept,
    ]
    return max(moment for moment in candidates if moment is not None)


def count_failures(user, now: datetime, config: Config, *, enough: int) -> int:
    """The failed logins against `user` in its window, from axes' failure log
    (the handler writes one row per counted failure; refused tries have none).
    Failures from whitelisted IPs and from the account's known devices are
    logged but never count. Stops at `enough`."""
    rows = AccessFailureLog.objects.filter(
        username=user.get_username(),
        attempt_time__gt=window_start(user, now, config),
        loginlimit_known_device__isnull=True,  # the owner's own browsers
    )
    if not config.whitelist.networks:
        return rows.count()
    counted = 0
    for ip in rows.values_list("ip_address", flat=True).iterator():
        if not config.whitelist.has_ip(ip):
            counted += 1
            if counted >= enough:
                break
    return counted


def deactivate_if_due(
    client: ClientIdentity, config: Config, request=None
) -> Deactivation | None:
    """Called after a failed login was counted and written to axes' failure log:
    deactivate the account it named (if that account exists) once its failures
    in the window are due. Costs no query when deactivation is off."""
    if not config.deactivate_after or not client.raw_username or not can_deactivate():
        return None
    user = find_user(client.raw_username)
    if user is None or not user.is_active or is_whitelisted(user, config):
        return None
    now = timezone.now()
    due = config.deactivate_after * config.allowed_retries
    with _atomic():
        # The row lock makes concurrent failures deactivate the account once.
        user = (
            get_user_model()
            ._default_manager.select_for_update()
            .filter(pk=user.pk)
            .first()
        )
        if user is None or not user.is_active:
            return None
        failures = count_failures(user, now, config, enough=due)
        if failures < due:
            return None
        if is_last_active_superuser(user):
            _keep_active(user, now, failures, client, config, request)
            return None
        user.is_active = False
        user.save(update_fields=["is_active"])
        deactivation = Deactivation.objects.create(
            user=user,
            deactivated_at=now,
            lockout_count=policy.lockout_count(failures, config.limits),
            failure_count=failures,
            ip_address=client.ip_address,
        )
        _on_commit(partial(_announce_deactivation, deactivation, config, request))
    return deactivation


def is_last_active_superuser(user) -> bool:
    """Whether deactivating `user` would leave no active superuser: failures
    never do that, or anyone who knows the admin's username could lock the
    site's last administrator out."""
    if not getattr(user, "is_superuser", False):
        return False
    User = get_user_model()
    if not any(field.name == "is_superuser" for field in User._meta.concrete_fields):
        return False
    others = User._default_manager.filter(is_superuser=True, is_active=True)
    return not others.exclude(pk=user.pk).exists()


def _keep_active(user, now, failures: int, client, config: Config, request) -> None:
    """The last active superuser is due: keep it active and tell the admins.
    The `KeptActive` record starts its count again (`window_start`), so the
    warning and email come once per would-be deactivation, not per failure;
    it is written under the account's row lock, so concurrent failures write
    it once."""
    kept = KeptActive.objects.create(
        user=user, at=now, failure_count=failures, ip_address=client.ip_address
    )
    _on_commit(partial(_announce_kept_active, kept, config, request))


def _announce_kept_active(kept: KeptActive, config: Config, request) -> None:
    with _never_breaking_login("notification"):
        notifications.notify_kept_active(kept.user, config, request, kept=kept)


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
    user,
    *,
    by=None,
    reason: str = Deactivation.REACTIVATED_ADMIN,
    request=None,
    only_deactivated: bool = True,
) -> bool:
    """Make `user` active again: close its deactivation records, lift the
    plugin's lockouts of the account, fire `loginlimit_reactivate` and write
    the audit log naming `by` (None: the command line).

    Returns False, doing nothing, when the plugin has no open deactivation
    record for the account — an account an administrator made inactive on
    purpose stays inactive — unless `only_deactivated=False`, which makes any
    inactive account active (False then means it was active already)."""
    by = _acting_user(by)
    with _atomic():
        # Re-read under a row lock: of two concurrent reactivations, one acts.
        locked = (
            get_user_model()
            ._default_manager.select_for_update()
            .filter(pk=user.pk)
            .first()
        )
        if locked is None:
            return False
        records = _close_records(user, by=by, reason=reason)
        if not records and (only_deactivated or locked.is_active):
            user.is_active = locked.is_active
            return False
        if not locked.is_active:
            user.is_active = True
            setattr(user, _REACTIVATING, True)
            try:
                user.save(update_fields=["is_active"])
            finally:
                delattr(user, _REACTIVATING)
        user.is_active = True
        _on_commit(partial(_after_reactivation, user, records, by, reason, request))
    return True


def _after_reactivation(user, records, by, reason: str, request) -> None:
    if reason != Deactivation.REACTIVATED_KNOWN_DEVICE:
        # The owner signing in from a known device lifts nobody's lockout:
        # whoever made the account inactive stays locked out.
        _forget(user, by=by, request=request)
    _announce_reactivation(user, records, by=by, reason=reason, request=request)


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
    """Lift the account's lockouts and forget their counts (announced as
    unlocks). The failures counted for deactivation need no clearing: the
    reactivation time starts the account's window afresh. A counter store that
    cannot be reached is logged: the account is active either way, and its
    lockouts end by themselves."""
    if not normalize_username(user.get_username()):
        return
    try:
        unlocking.unlock(
            username=user.get_username(),
            by=by,
            reason=Lockout.LIFTED_REACTIVATE,
            request=request,
        )
    except storage.StoreUnavailable as error:
        logger.error(
            "The lockouts of a reactivated account could not be lifted (%s); "
            "they end by themselves.",
            error,
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


def _on_commit(func) -> None:
    """Run `func` once the current transaction commits (at once outside one),
    so that hooks, emails and audit entries see committed state, and nothing is
    announced for a change that was rolled back."""
    transaction.on_commit(func, using=router.db_for_write(Deactivation))


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
    """post_save: an account made active clears the plugin's lockouts; if the
    plugin had deactivated it, the reactivation is announced, naming the admin
    Wagtail's audit-log context holds."""
    if not instance.__dict__.pop(_BECAME_ACTIVE, False) or raw:
        return
    by = _acting_user(get_active_log_context().user)
    reason = Deactivation.REACTIVATED_USER_EDIT
    with _atomic():
        records = _close_records(instance, by=by, reason=reason)
    _forget(instance, by=by, request=None)
    if records:
        _on_commit(
            partial(
                _announce_reactivation,
                instance,
                records,
                by=by,
                reason=reason,
                request=None,
            )
        )


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
