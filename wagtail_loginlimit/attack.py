"""Attack mode: when the whole site's failed logins reach `attack_threshold`
within 10 minutes, every unknown device must pass the challenge before a
password is checked, until the rate has stayed below the threshold for 10
minutes.

The rate is read from django-axes' failure log (one row per counted failed
login, indexed by time), and never more than `attack_threshold` rows of it: a
bounded count per failed login. A period is one `AttackPeriod` row; one
database constraint makes sure only one is open, however many requests cross
the threshold at once. The admins get one email when it starts and one when it
ends (with the figures), the `loginlimit_attack` hook and signal fire, and the
dashboard panel and the reports show a banner. No line is written for
fail2ban: there is no one address to ban.

It ends lazily: at the first look (a login page, the dashboard, a failed
login) once 10 minutes have passed since the last failure seen at the
threshold and the rate is below it.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from axes.models import AccessFailureLog
from django.conf import settings
from django.core.cache import caches
from django.db import IntegrityError, router, transaction
from django.utils import timezone

from . import events, notifications
from .code_settings import code_value
from .conf import Config, get_config
from .models import AttackPeriod

logger = logging.getLogger(__name__)

WINDOW = timedelta(minutes=10)
STARTED, ENDED = "started", "ended"
# Set in the cache while a period is open: the admin's banner looks here first.
OPEN_FLAG = "wagtail_loginlimit:attack:open"
STARTED_TEMPLATES = (
    "wagtail_loginlimit/emails/attack_started_subject.txt",
    "wagtail_loginlimit/emails/attack_started.txt",
    "wagtail_loginlimit/emails/attack_started.html",
)
ENDED_TEMPLATES = (
    "wagtail_loginlimit/emails/attack_ended_subject.txt",
    "wagtail_loginlimit/emails/attack_ended.txt",
    "wagtail_loginlimit/emails/attack_ended.html",
)


def recent_failures(now: datetime, most: int) -> int:
    """Failed logins across the site in the last 10 minutes, with the tries
    refused for want of a passed challenge (attack traffic too, though no
    password was checked), counted up to `most`: a bounded query, whatever
    the attack's size."""
    refused = _refused_recently(now)
    if refused >= most:
        return refused
    rows = AccessFailureLog.objects.filter(
        attempt_time__gt=now - WINDOW, attempt_time__lte=now
    )
    return refused + len(rows.order_by().values_list("pk", flat=True)[: most - refused])


def note_refused(config: Config, now: datetime | None = None) -> None:
    """A login refused for want of a passed challenge: it keeps attack mode
    on while the attackers keep trying (per-minute counts in the cache named
    by `cache_alias`)."""
    if not config.attack_threshold:
        return
    key = _minute_key(now or timezone.now())
    try:
        cache = _cache()
        cache.add(key, 0, timeout=int(WINDOW.total_seconds()) + 120)
        cache.incr(key)
    except Exception:
        logger.exception("Could not count a refused try for attack mode.")


def _refused_recently(now: datetime) -> int:
    minutes = int(WINDOW.total_seconds() // 60)
    keys = [_minute_key(now - timedelta(minutes=m)) for m in range(minutes)]
    try:
        return sum(int(v or 0) for v in _cache().get_many(keys).values())
    except Exception:
        logger.exception("Could not read the refused tries for attack mode.")
        return 0


def _set_flag(on: bool) -> None:
    try:
        if on:
            _cache().set(OPEN_FLAG, 1, timeout=None)
        else:
            _cache().delete(OPEN_FLAG)
    except Exception:
        logger.exception("Could not set the attack-mode flag for the banner.")


def _minute_key(moment: datetime) -> str:
    return f"wagtail_loginlimit:attack:refused:{int(moment.timestamp() // 60)}"


def _cache():
    return caches[code_value("cache_alias")]


def current() -> AttackPeriod | None:
    return AttackPeriod.objects.filter(is_open=True).first()


def observe(config: Config, now: datetime | None = None, request=None) -> None:
    """After a counted failed login: start attack mode if the rate reached
    the threshold, or note that it is still there. Never breaks a login."""
    threshold = config.attack_threshold
    if not threshold:
        return
    now = now or timezone.now()
    try:
        rate = recent_failures(now, threshold)
        period = current()
        if rate < threshold:
            if period is not None:
                _end_if_calm(period, config, now)
            return
        if period is not None:
            AttackPeriod.objects.filter(pk=period.pk).update(last_above_at=now)
            return
        _start(config, now, rate, request)
    except Exception:
        logger.exception("Could not update attack mode; the login goes on.")


def active(config: Config | None = None, now: datetime | None = None) -> bool:
    """Whether attack mode is on (ending it if it has calmed down)."""
    config = config or get_config()
    if not config.attack_threshold:
        return False
    period = current()
    if period is None:
        return False
    return not _end_if_calm(period, config, now or timezone.now())


def current_banner(request=None) -> AttackPeriod | None:
    """The open period for the admin's banner (ending it if it calmed
    down); None when there is none or the database cannot say. No query
    while attack mode is off: a flag in the cache says it is on."""
    try:
        flag = _cache().get(OPEN_FLAG)
    except Exception:  # the cache is down: the dashboard's figures say so
        logger.debug("No attack-mode banner: the cache cannot be read.")
        return None
    if not flag:
        return None
    try:
        config = get_config(request)
        return current() if active(config) else None
    except Exception:
        logger.exception("Could not read attack mode for the banner.")
        return None


def _start(config: Config, now: datetime, rate: int, request) -> None:
    try:
        with transaction.atomic(using=router.db_for_write(AttackPeriod)):
            period = AttackPeriod.objects.create(
                started_at=now,
                last_above_at=now,
                peak=rate,
                threshold=config.attack_threshold,
            )
    except IntegrityError:
        return  # another request started it a moment ago
    logger.warning(
        "Attack mode started: %s failed logins within 10 minutes.", period.peak
    )
    _set_flag(True)
    transaction.on_commit(
        lambda: _announce(STARTED, period, config, request),
        using=router.db_for_write(AttackPeriod),
    )


def _end_if_calm(period: AttackPeriod, config: Config, now: datetime) -> bool:
    """End `period` if 10 minutes passed at the threshold's last sight and the
    rate is below it now; True if it ended (here or elsewhere)."""
    if now - period.last_above_at < WINDOW:
        return False
    if recent_failures(now, config.attack_threshold) >= config.attack_threshold:
        AttackPeriod.objects.filter(pk=period.pk).update(last_above_at=now)
        return False
    ended = AttackPeriod.objects.filter(pk=period.pk, is_open=True).update(
        is_open=False, ended_at=now
    )
    if ended:
        period.ended_at, period.is_open = now, False
        _set_flag(False)
        logger.warning("Attack mode ended.")
        transaction.on_commit(
            lambda: _announce(ENDED, period, config, None),
            using=router.db_for_write(AttackPeriod),
        )
    return True


def _figures(period: AttackPeriod) -> dict:
    end = period.ended_at or timezone.now()
    failures = AccessFailureLog.objects.filter(
        attempt_time__gte=period.started_at - WINDOW, attempt_time__lte=end
    ).count()
    return {
        "site_name": getattr(settings, "WAGTAIL_SITE_NAME", "") or "",
        "started_at": timezone.localtime(period.started_at),
        "ended_at": timezone.localtime(period.ended_at) if period.ended_at else None,
        "threshold": period.threshold,
        "peak": period.peak,
        "failures": failures,
        "report_url": notifications.failed_logins_url(),
    }


def _announce(what: str, period: AttackPeriod, config: Config, request) -> None:
    """One email to the admins and one `loginlimit_attack` event."""
    figures = _figures(period)
    notifications.send_admin_email(
        f"attack {what}",
        STARTED_TEMPLATES if what == STARTED else ENDED_TEMPLATES,
        lambda: figures,
        config,
    )
    events.emit(
        events.LoginLimitEvent(
            kind=events.ATTACK,
            failure_count=figures["failures"] if what == ENDED else period.peak,
            reason=what,
            request=request,
        )
    )
