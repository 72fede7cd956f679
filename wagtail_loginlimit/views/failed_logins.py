"""Reports → Login security → Failed logins: django-axes' failure log."""

from __future__ import annotations

from axes.models import AccessFailureLog
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from wagtail.admin.ui.tables import BooleanColumn, Column, DateColumn

from ..filters import FailedLoginFilterSet
from .base import LoginSecurityReportView
from .columns import NOWRAP


class FailedLoginsView(LoginSecurityReportView):
    model = AccessFailureLog
    filterset_class = FailedLoginFilterSet
    page_title = _("Failed logins")
    header_icon = "warning"
    index_url_name = "wagtail_loginlimit:failed_logins"
    index_results_url_name = "wagtail_loginlimit:failed_logins_results"
    verbose_name = _("failed login")
    verbose_name_plural = _("failed logins")
    count_label = ngettext_lazy(
        "%(number)s failed login", "%(number)s failed logins", "count"
    )
    default_ordering = "-attempt_time"
    export_filename = "failed-logins"
    search_fields = ["username", "ip_address", "user_agent", "path_info"]
    columns = [
        DateColumn(
            "attempt_time", label=_("Time"), sort_key="attempt_time", classname=NOWRAP
        ),
        Column(
            "ip_address", label=_("IP address"), sort_key="ip_address", classname=NOWRAP
        ),
        Column("username", label=_("Username"), sort_key="username"),
        Column("path_info", label=_("Path")),
        Column("user_agent", label=_("Browser (user agent)")),
        BooleanColumn("locked_out", label=_("Caused a lockout"), sort_key="locked_out"),
    ]
    list_export = [
        "attempt_time",
        "ip_address",
        "username",
        "path_info",
        "user_agent",
        "locked_out",
    ]
    export_headings = {
        "attempt_time": _("Time"),
        "ip_address": _("IP address"),
        "username": _("Username"),
        "path_info": _("Path"),
        "user_agent": _("Browser (user agent)"),
        "locked_out": _("Caused a lockout"),
    }
