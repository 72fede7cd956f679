"""The "Login security" panel on the Wagtail dashboard: active lockouts,
failed logins in the last 24 hours, and a chart of the last 14 days.

Each chart series is one aggregate query (`TruncDate` + `Count`), grouped by
day in the admin's time zone, whatever the number of days."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from axes.models import AccessFailureLog
from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from wagtail.admin.ui.components import Component

from . import chart, permissions
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
    """The inline SVG chart of failed logins and lockouts per day."""
    days = days or last_days()
    failures = per_day(AccessFailureLog.objects.all(), "attempt_time", days)
    lockouts = per_day(Lockout.objects.all(), "started_at", days)
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


class LoginSecurityPanel(Component):
    name = "loginlimit"
    template_name = "wagtail_loginlimit/dashboard/panel.html"
    order = 160

    def get_context_data(self, parent_context=None):
        now = timezone.now()
        return {
            "active_count": Lockout.objects.active(now).count(),
            "failures_24h": AccessFailureLog.objects.filter(
                attempt_time__gte=now - timedelta(hours=24)
            ).count(),
            "chart": render_chart(),
            "active_url": reverse("wagtail_loginlimit:active_lockouts"),
            "failures_url": reverse("wagtail_loginlimit:failed_logins"),
            "history_url": reverse("wagtail_loginlimit:lockout_history"),
        }


def add_panel(request, panels: list) -> None:
    """The `construct_homepage_panels` hook: only for users who may manage."""
    if permissions.user_can_manage(request.user):
        panels.append(LoginSecurityPanel())
