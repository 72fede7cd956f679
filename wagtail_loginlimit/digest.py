"""The digest (`digest` = `daily` or `weekly`): one email to the admins per
period with its failed logins, lockouts, the addresses, networks and usernames
tried most, and a small chart, so that they get a feel for how often the site
is targeted.

`send_due_digest()` (the `loginlimit_digest` command) sends the last period
that has ended — yesterday, or last week (Monday to Sunday) — in Django's
`TIME_ZONE`. It is safe to run as often as you like: a period is claimed by
inserting its `SentDigest` row, which a unique constraint allows once, so
runs at the same time on several servers send it once between them. A period
whose email could not be sent is given up again for the next run to retry.
"""

from __future__ import annotations

import ipaddress
import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from axes.models import AccessFailureLog
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.db.models.functions import Trunc
from django.utils import timezone, translation
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _

from . import notifications, security_log
from .conf import Config, get_config
from .models import Deactivation, Lockout, SentDigest
from .validation import DIGEST_FREQUENCIES

logger = logging.getLogger(__name__)

DAILY, WEEKLY = DIGEST_FREQUENCIES
# How many addresses, networks and usernames each list shows.
TOP = 5
# The networks a digest groups addresses by, whatever `ipv6_prefix` says: an
# attacker renting addresses usually gets a /24 of IPv4 or a /48 of IPv6.
IPV4_NETWORK_PREFIX = 24
IPV6_NETWORK_PREFIX = 48
# A claim whose run died before sending (no `sent_at`) is taken over after this.
STALE_CLAIM = timedelta(hours=1)
# The chart's tallest bar, in pixels.
CHART_HEIGHT = 80

SUBJECT_TEMPLATE = "wagtail_loginlimit/emails/digest_subject.txt"
TEXT_TEMPLATE = "wagtail_loginlimit/emails/digest.txt"
HTML_TEMPLATE = "wagtail_loginlimit/emails/digest.html"
DIGEST_TEMPLATES = (SUBJECT_TEMPLATE, TEXT_TEMPLATE, HTML_TEMPLATE)

FAILED_LOGINS_URL_NAME = "wagtail_loginlimit:failed_logins"

SENT = "sent"
ALREADY_SENT = "already_sent"
NOT_SENT = "not_sent"
OFF = "off"


@dataclass(frozen=True)
class Period:
    frequency: str
    start: datetime  # aware, midnight in TIME_ZONE
    end: datetime  # exclusive

    @property
    def first_day(self) -> date:
        return timezone.localtime(self.start).date()

    @property
    def last_day(self) -> date:
        return timezone.localtime(self.end).date() - timedelta(days=1)

    def previous(self) -> Period:
        return period_ending(self.frequency, self.first_day)


def period_ending(frequency: str, end_day: date) -> Period:
    """The period of `frequency` that ends at the midnight starting `end_day`."""
    days = 7 if frequency == WEEKLY else 1
    return Period(
        frequency, _midnight(end_day - timedelta(days=days)), _midnight(end_day)
    )


def last_period(frequency: str, now: datetime | None = None) -> Period:
    """The last whole period before `now`: yesterday, or last Monday–Sunday."""
    today = timezone.localtime(now or timezone.now()).date()
    if frequency == WEEKLY:
        today -= timedelta(days=today.weekday())
    return period_ending(frequency, today)


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=timezone.get_default_timezone())


# --- what a digest says ---------------------------------------------------------


def shown(number: int) -> str:
    """A count as people read it in the active language: 5,000 / 5.000."""
    return number_format(number, force_grouping=True)


@dataclass(frozen=True)
class Row:
    label: str
    count: int
    addresses: int = 0  # networks only: how many addresses of it failed

    @property
    def shown(self) -> str:
        return shown(self.count)


@dataclass(frozen=True)
class Bar:
    label: str  # "14:00" or "Mon 3 March", for the tooltip and the summary
    tick: str  # under the bar: every third hour, each weekday
    count: int
    height: int  # pixels, 0 for none
    level: str  # one character of a text sparkline

    @property
    def shown(self) -> str:
        return shown(self.count)


@dataclass
class Summary:
    period: Period
    failures: int = 0
    previous_failures: int = 0
    lockouts: int = 0
    long_lockouts: int = 0
    deactivations: int = 0
    addresses: int = 0
    top_addresses: list[Row] = field(default_factory=list)
    top_networks: list[Row] = field(default_factory=list)
    top_usernames: list[Row] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)

    @property
    def busiest(self) -> Bar | None:
        return max(self.bars, key=lambda bar: bar.count) if self.failures else None

    @property
    def sparkline(self) -> str:
        return "".join(bar.level for bar in self.bars)


def summarise(period: Period) -> Summary:
    """The period's figures, from axes' failure log and the lockout records."""
    failures = AccessFailureLog.objects.filter(
        attempt_time__gte=period.start, attempt_time__lt=period.end
    )
    previous = period.previous()
    lockouts = Lockout.objects.filter(
        started_at__gte=period.start, started_at__lt=period.end
    )
    summary = Summary(
        period=period,
        failures=failures.count(),
        previous_failures=AccessFailureLog.objects.filter(
            attempt_time__gte=previous.start, attempt_time__lt=previous.end
        ).count(),
        lockouts=lockouts.count(),
        long_lockouts=lockouts.filter(is_long=True).count(),
        deactivations=Deactivation.objects.filter(
            deactivated_at__gte=period.start, deactivated_at__lt=period.end
        ).count(),
    )
    if summary.failures:
        per_address = dict(
            failures.exclude(ip_address=None)
            .order_by()
            .values("ip_address")
            .annotate(n=Count("id"))
            .values_list("ip_address", "n")
        )
        summary.addresses = len(per_address)
        summary.top_addresses = [
            Row(address, count) for address, count in _top(Counter(per_address))
        ]
        summary.top_networks = _networks(per_address)
        summary.top_usernames = [
            Row(security_log.printable(name) or "-", count)
            for name, count in failures.order_by()
            .values("username")
            .annotate(n=Count("id"))
            .order_by("-n", "username")
            .values_list("username", "n")[:TOP]
        ]
    summary.bars = _bars(period, failures)
    return summary


def _top(counter: Counter) -> list[tuple]:
    return sorted(counter.items(), key=lambda item: (-item[1], str(item[0])))[:TOP]


def _networks(per_address: dict[str, int]) -> list[Row]:
    failures: Counter = Counter()
    addresses: Counter = Counter()
    for address, count in per_address.items():
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            continue
        prefix = IPV4_NETWORK_PREFIX if ip.version == 4 else IPV6_NETWORK_PREFIX
        network = str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))
        failures[network] += count
        addresses[network] += 1
    return [
        Row(network, count, addresses[network]) for network, count in _top(failures)
    ]


_LEVELS = "▁▂▃▄▅▆▇█"


def _bars(period: Period, failures) -> list[Bar]:
    """Failures per hour (daily) or per day (weekly), in `TIME_ZONE`."""
    zone = timezone.get_default_timezone()
    unit = "day" if period.frequency == WEEKLY else "hour"
    counts = {
        timezone.localtime(bucket, zone).replace(tzinfo=None): n
        for bucket, n in failures.order_by()
        .annotate(bucket=Trunc("attempt_time", unit, tzinfo=zone))
        .values("bucket")
        .annotate(n=Count("id"))
        .values_list("bucket", "n")
    }
    slots: list[tuple[datetime, str, str]] = []
    if unit == "day":
        for offset in range(7):
            day = period.first_day + timedelta(days=offset)
            slots.append(
                (
                    datetime.combine(day, time(0)),
                    date_format(day, "D j M"),
                    date_format(day, "D"),
                )
            )
    else:
        # In UTC: arithmetic on zoned datetimes is wall-clock arithmetic, which
        # would skip or repeat nothing on the days the clocks change.
        moment, end = period.start.astimezone(UTC), period.end.astimezone(UTC)
        while moment < end:
            local = timezone.localtime(moment, zone).replace(tzinfo=None)
            local = local.replace(minute=0, second=0, microsecond=0)
            label = date_format(local, "TIME_FORMAT")
            slots.append((local, label, str(local.hour) if local.hour % 3 == 0 else ""))
            moment += timedelta(hours=1)
    top = max((counts.get(slot, 0) for slot, _, _ in slots), default=0)
    bars = []
    for slot, label, tick in slots:
        count = counts.get(slot, 0)
        if count and top:
            height = max(2, round(CHART_HEIGHT * count / top))
            level = _LEVELS[min(len(_LEVELS) - 1, (len(_LEVELS) * count - 1) // top)]
        else:
            height, level = 0, "·"
        bars.append(Bar(label, tick, count, height, level))
    return bars


# --- the email ------------------------------------------------------------------


def period_label(period: Period) -> str:
    if period.frequency == WEEKLY:
        return _("%(start)s to %(end)s") % {
            "start": date_format(period.first_day, "DATE_FORMAT"),
            "end": date_format(period.last_day, "DATE_FORMAT"),
        }
    return date_format(period.first_day, "DATE_FORMAT")


def email_context(summary: Summary) -> dict:
    """What the templates get; call it in the language the email is written in."""
    return {
        "site_name": getattr(settings, "WAGTAIL_SITE_NAME", "") or "",
        "summary": summary,
        "weekly": summary.period.frequency == WEEKLY,
        "period": period_label(summary.period),
        "failures": summary.failures,
        "failures_shown": shown(summary.failures),
        "previous_failures": shown(summary.previous_failures),
        "lockouts": summary.lockouts,
        "lockouts_shown": shown(summary.lockouts),
        "long_lockouts": shown(summary.long_lockouts),
        "deactivations": shown(summary.deactivations),
        "addresses": shown(summary.addresses),
        "top_addresses": summary.top_addresses,
        "top_networks": summary.top_networks,
        "top_usernames": summary.top_usernames,
        "bars": summary.bars,
        "bar_width": 36 if summary.period.frequency == WEEKLY else 12,
        "chart_height": CHART_HEIGHT,
        "sparkline": summary.sparkline,
        "busiest": summary.busiest,
        "report_url": notifications._url(FAILED_LOGINS_URL_NAME)
        or notifications.report_url(),
    }


def build_digest_email(period: Period, to: list[str]):
    """The period's digest email, in the site's `LANGUAGE_CODE` and `TIME_ZONE`."""
    with translation.override(settings.LANGUAGE_CODE), timezone.override(None):
        context = email_context(summarise(period))
    return notifications.build_email(DIGEST_TEMPLATES, context, to)


# --- sending once per period ----------------------------------------------------


@dataclass(frozen=True)
class Result:
    status: str  # SENT, ALREADY_SENT, NOT_SENT or OFF
    period: Period | None = None
    recipients: tuple[str, ...] = ()


def _claim(period: Period, now: datetime) -> SentDigest | None:
    """This run's claim on `period`, or None if another run has it (or sent it)."""
    try:
        with transaction.atomic():
            return SentDigest.objects.create(
                frequency=period.frequency,
                period_start=period.start,
                period_end=period.end,
                claimed_at=now,
            )
    except IntegrityError:
        pass
    # A run that died between claiming and sending left its claim unsent: the
    # first run to move its claim time on takes it over (one UPDATE, so two
    # runs cannot both succeed).
    taken = SentDigest.objects.filter(
        frequency=period.frequency,
        period_start=period.start,
        sent_at__isnull=True,
        claimed_at__lt=now - STALE_CLAIM,
    ).update(claimed_at=now)
    if not taken:
        return None
    return SentDigest.objects.get(frequency=period.frequency, period_start=period.start)


def send_due_digest(
    frequency: str | None = None, *, config: Config | None = None, now=None
) -> Result:
    """Send the last ended period's digest unless it went out already.
    `frequency` defaults to the `digest` setting; with none, nothing is sent."""
    config = config or get_config()
    frequency = frequency or config.digest
    if frequency not in DIGEST_FREQUENCIES:
        return Result(OFF)
    now = now or timezone.now()
    period = last_period(frequency, now)
    claim = _claim(period, now)
    if claim is None:
        return Result(ALREADY_SENT, period)
    try:
        to = notifications.recipients(config)
        if not to:
            logger.warning(
                "Login digest not sent: no recipients (set notify_recipients in "
                "WAGTAIL_LOGINLIMIT or give a superuser an email address)."
            )
        else:
            build_digest_email(period, to).send()
    except Exception:
        logger.exception("The login digest could not be sent; the next run retries.")
        to = []
    if not to:
        claim.delete()
        return Result(NOT_SENT, period)
    claim.sent_at = timezone.now()
    claim.save(update_fields=["sent_at"])
    return Result(SENT, period, tuple(to))
