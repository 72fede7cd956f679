"""Reports → Login security → Lockout history: every lockout, when it ended
and how it was lifted."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import Column, DateColumn, UserColumn

from ..filters import LockoutHistoryFilterSet
from .active_lockouts import LockoutReportMixin, _length
from .base import LoginSecurityReportView
from .columns import LockoutColumn, ends_display


class LockoutHistoryView(LockoutReportMixin, LoginSecurityReportView):
    page_title = _("Lockout history")
    header_icon = "history"
    index_url_name = "wagtail_loginlimit:lockout_history"
    index_results_url_name = "wagtail_loginlimit:lockout_history_results"
    filterset_class = LockoutHistoryFilterSet
    default_ordering = "-started_at"
    export_filename = "lockout-history"
    columns = [
        LockoutColumn(),
        Column("get_scope_display", label=_("Locked by")),
        Column("ip_address", label=_("IP address"), sort_key="ip_address"),
        DateColumn("started_at", label=_("Started"), sort_key="started_at"),
        Column("ends_at", label=_("Ends"), accessor=ends_display, sort_key="ends_at"),
        Column("length", label=_("Length"), accessor=_length, sort_key="is_long"),
        Column("failure_count", label=_("Failures"), sort_key="failure_count"),
        DateColumn("lifted_at", label=_("Lifted"), sort_key="lifted_at"),
        Column(
            "get_lift_reason_display",
            label=_("How it was lifted"),
            sort_key="lift_reason",
        ),
        UserColumn("lifted_by", label=_("Lifted by")),
    ]
