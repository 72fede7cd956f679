"""The "Login security" panel on the Wagtail dashboard: active lockouts,
failed logins in the last 24 hours, and a chart of the last 14 days.

Each chart series is one aggregate query (`TruncDate` + `Count`), grouped by
day in the admin's time zone, whatever the number of days. The four queries'
results are cached for up to a minute (`dashboard_cache`), so a dashboard view
usually makes none."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from axes.models import AccessFailureLog
from django.db.models import Count, Min, QuerySet
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from wagtail.admin.ui.components import Component

from . import attack, chart, dashboard_cache, permissions
from .models import Lockout

CHART_DAYS = 14


def per_day(queryset: QuerySet, field: str, days: list[date]) -> list[int]:
    """How many rows of `queryset` fall on each of `days` (local time), in
    one query."""
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(days[0], datetime.min.time()), tz)
    end = timezone.make_aware(
        datetime.combine(days[-1] + timedelta(days=1), datetime.min.time()), tz
    )
    rows = (
        queryset.filter(**{f"{field}__gte": start, f"{field}__lt": end})
        .annotate(day=TruncDate(field, tzinfo=tz))
        .values("day")
        .annotate(count=Count("pk"))
        .order_by()
    )
    counts = {row["day"]: row["count"] for row in rows}
    return [counts.get(day, 0) for day in days]


def last_days(count: int = CHART_DAYS, today: date | None = None) -> list[date]:
    """The `count` days ending today (local time), oldest first."""
    today = today or timezone.localdate()
    return [today - timedelta(days=offset) for offset in range(count - 1, -1, -1)]


def render_chart(days: list[date] | None = None):
    """The inline SVG chart of failed logins and lockouts per day, read from
    the database (two queries)."""
    days = days or last_days()
    failures = per_day(AccessFailureLog.objects.all(), "attempt_time", days)
    lockouts = per_day(Lockout.objects.all(), "started_at", days)
    return draw_chart(days, failures, lockouts)


def draw_chart(days: list[date], failures: list[int], lockouts: list[int]):
    """The chart of given per-day counts (no query)."""
    return chart.bar_chart(
        days,
        [
            chart.Series(
                _("Failed logins"),
                failures,
                "loginlimit-chart__failures",
                "var(--w-color-warning-100, #faa500)",
            ),
            chart.Series(
                _("Lockouts"),
                lockouts,
                "loginlimit-chart__lockouts",
                "var(--w-color-critical-200, #cd4444)",
            ),
        ],
        title=ngettext(
            "Failed logins and lockouts per day, last %(count)s day",
            "Failed logins and lockouts per day, last %(count)s days",
            len(days),
        )
        % {"count": len(days)},
    )


def read_figures(days: list[date]) -> tuple[dict[str, Any], float]:
    """The panel's numbers from the database (four queries), and how many
    seconds they stay true at most without a new failure: until the next
    active lockout ends, which changes the active count by itself."""
    now = timezone.now()
    active = Lockout.objects.active(now).aggregate(
        count=Count("pk"), next_end=Min("ends_at")
    )
    data = {
        "active_count": active["count"],
        "failures_24h": AccessFailureLog.objects.filter(
            attempt_time__gte=now - timedelta(hours=24)
        ).count(),
        "failures": per_day(AccessFailureLog.objects.all(), "attempt_time", days),
        "lockouts": per_day(Lockout.objects.all(), "started_at", days),
        "computed_at": now.timestamp(),
    }
    lifetime = float(dashboard_cache.CACHE_SECONDS)
    if active["next_end"] is not None:
        lifetime = min(lifetime, (active["next_end"] - now).total_seconds())
    return data, lifetime


def figures(days: list[date]) -> dict[str, Any]:
    """The panel's numbers for `days` in the current time zone, cached."""
    zone = timezone.get_current_timezone_name()
    scope = f"{zone}:{days[0].isoformat()}:{len(days)}"
    return dashboard_cache.cached(scope, lambda: read_figures(days))


class LoginSecurityPanel(Component):
    name = "loginlimit"
    template_name = "wagtail_loginlimit/dashboard/panel.html"
    order = 160

    def get_context_data(self, parent_context=None):
        days = last_days()
        data = figures(days)
        return {
            "active_count": data["active_count"],
            "failures_24h": data["failures_24h"],
            "chart": draw_chart(days, data["failures"], data["lockouts"]),
            "as_of": datetime.fromtimestamp(data["computed_at"], tz=UTC),
            "active_url": reverse("wagtail_loginlimit:active_lockouts"),
            "failures_url": reverse("wagtail_loginlimit:failed_logins"),
            "history_url": reverse("wagtail_loginlimit:lockout_history"),
            "attack": attack.current_banner((parent_context or {}).get("request")),
        }


def add_panel(request, panels: list) -> None:
    """The `construct_homepage_panels` hook: only for users who may manage."""
    if permissions.user_can_manage(request.user):
        panels.append(LoginSecurityPanel())
