"""Retention: delete what is older than the retention period — axes' attempts,
access and failure logs, ended lockouts and counters nobody counts any more —
and the known devices unused for longer than `known_device_age`.

Nothing that still counts is deleted, whatever the number of days: the cutoff
never comes later than the valid window (`valid_duration`), active lockouts are
kept, and so are counters that are locked, still remembered, or holding a try.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.contenttypes.models import ContentType
from django.db import router, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from wagtail.models import ModelLogEntry

from . import audit_log, known_devices
from .conf import get_config
from .models import FailureCounter, Lockout, SignInLink
from .policy import PENDING_TTL


@dataclass
class PurgeResult:
    """Rows deleted (or, in a dry run, that would be), by kind."""

    cutoff: datetime
    counts: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False
    widened: bool = False  # the valid window moved the cutoff back

    @property
    def total(self) -> int:
        return sum(self.counts.values())


# A century: more is a typo, and would overflow the date arithmetic.
MAX_DAYS = 36500


def check_days(days: int) -> None:
    """Raise `ValueError` (with a readable, translated message) unless
    1 ≤ `days` ≤ `MAX_DAYS`."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(
            _("The number of days must be from 1 to %(max)d, not %(days)d.")
            % {"max": MAX_DAYS, "days": days}
        )


def audit_entries(cutoff: datetime) -> QuerySet:
    """The plugin's own audit-log entries about lockouts (began, lifted) older
    than `cutoff`. Deactivations and reactivations, logged against accounts,
    are never purged."""
    return ModelLogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Lockout),
        action__in=[audit_log.LOCKOUT, audit_log.UNLOCK],
        timestamp__lt=cutoff,
    )


def cutoff_for(days: int, now: datetime, valid_duration: timedelta) -> datetime:
    """`days` ago, or the start of the valid window if that is earlier."""
    return now - max(timedelta(days=days), valid_duration)


def purge_querysets(cutoff: datetime, now: datetime) -> dict[str, QuerySet]:
    """What a purge with `cutoff` deletes, by kind (the keys are what the
    command prints)."""
    idle = now - PENDING_TTL
    return {
        "axes.AccessAttempt": AccessAttempt.objects.filter(attempt_time__lt=cutoff),
        "axes.AccessLog": AccessLog.objects.filter(attempt_time__lt=cutoff),
        "axes.AccessFailureLog": AccessFailureLog.objects.filter(
            attempt_time__lt=cutoff
        ),
        # Ended (or lifted) before the cutoff; an active lockout is never deleted.
        "wagtail_loginlimit.Lockout": Lockout.objects.filter(
            Q(ends_at__lt=cutoff) | Q(lifted_at__lt=cutoff)
        ).exclude(lifted_at__isnull=True, ends_at__gt=now),
        # Not locked, no failure since the cutoff, no try being checked.
        "wagtail_loginlimit.FailureCounter": FailureCounter.objects.filter(
            Q(locked_until__isnull=True) | Q(locked_until__lte=now),
            Q(last_failure__isnull=True) | Q(last_failure__lt=cutoff),
            Q(pending=0) | Q(pending_since__isnull=True) | Q(pending_since__lt=idle),
        ),
        # Browsers that have not signed in for `known_device_age`.
        "wagtail_loginlimit.KnownDevice": known_devices.expired(now),
        # Sign-in links sent over a day ago (each is valid for 15 minutes).
        "wagtail_loginlimit.SignInLink": SignInLink.objects.filter(
            created_at__lt=now - timedelta(days=1)
        ),
    }


def purge(
    days: int | None = None,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    audit_log_entries: bool = False,
) -> PurgeResult:
    """Delete what is older than `days` (default: the `retention_days` setting);
    with `audit_log_entries`, also the plugin's lockout entries in Wagtail's
    audit log (kept by default: audit logs are often kept on purpose)."""
    config = get_config()
    if days is None:
        days = config.retention_days
    check_days(days)
    now = now or timezone.now()
    cutoff = cutoff_for(days, now, config.valid_duration)
    result = PurgeResult(
        cutoff=cutoff,
        dry_run=dry_run,
        widened=cutoff < now - timedelta(days=days),
    )
    querysets = purge_querysets(cutoff, now)
    if audit_log_entries:
        querysets["wagtailcore.ModelLogEntry"] = audit_entries(cutoff)
    with transaction.atomic(using=router.db_for_write(FailureCounter)):
        for label, queryset in querysets.items():
            if dry_run:
                result.counts[label] = queryset.count()
            else:
                # `_raw_delete` would skip cascades; a plain delete counts the
                # rows of the model itself (axes' expirations cascade along).
                deleted, by_model = queryset.delete()
                result.counts[label] = by_model.get(queryset.model._meta.label, 0)
    return result
