"""Reports → Login security → Lockout history: every lockout, when it ended
and how it was lifted."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from wagtail.admin.admin_url_finder import ModelAdminURLFinder
from wagtail.admin.ui.tables import Column, DateColumn, UserColumn

from ..filters import LockoutHistoryFilterSet
from .active_lockouts import LockoutReportMixin
from .base import LoginSecurityReportView
from .columns import NOWRAP, lockout_columns


class LockoutHistoryView(LockoutReportMixin, LoginSecurityReportView):
    page_title = _("Lockout history")
    header_icon = "history"
    index_url_name = "wagtail_loginlimit:lockout_history"
    index_results_url_name = "wagtail_loginlimit:lockout_history_results"
    filterset_class = LockoutHistoryFilterSet
    default_ordering = "-started_at"
    export_filename = "lockout-history"
    columns = [
        *lockout_columns(),
        DateColumn(
            "lifted_at", label=_("Lifted"), sort_key="lifted_at", classname=NOWRAP
        ),
        Column(
            "get_lift_reason_display",
            label=_("How it was lifted"),
            sort_key="lift_reason",
        ),
        UserColumn("lifted_by", label=_("Lifted by")),
    ]


class LockoutURLFinder(ModelAdminURLFinder):
    """Where a lockout's Site history entry leads: Lockout history showing
    that lockout (for users who may manage login limits)."""

    def construct_edit_url(self, instance) -> str:
        query = urlencode({"lockout": instance.pk})
        return f"{reverse('wagtail_loginlimit:lockout_history')}?{query}"
