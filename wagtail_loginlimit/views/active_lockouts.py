"""Reports → Login security → Active lockouts: who is locked out now, with
"Unlock" for one row and a bulk "Unlock" for the selected rows."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import BulkActionsCheckboxColumn, Column, DateColumn

from ..filters import ActiveLockoutFilterSet
from ..models import Lockout
from .base import LoginSecurityReportView
from .columns import LockoutColumn, ends_display


class LockoutReportMixin:
    """Columns and export fields of the two lockout reports."""

    model = Lockout
    header_icon = "lock"
    verbose_name = _("lockout")
    verbose_name_plural = _("lockouts")
    search_fields = ["username", "ip_address", "ip_group"]
    list_export = [
        "ip_address",
        "ip_group",
        "username",
        "get_scope_display",
        "started_at",
        "ends_at",
        "is_long",
        "failure_count",
        "number",
        "lifted_at",
        "lifted_by",
        "get_lift_reason_display",
    ]
    export_headings = {
        "ip_address": _("IP address"),
        "ip_group": _("IP group"),
        "username": _("Username"),
        "get_scope_display": _("Locked by"),
        "started_at": _("Started"),
        "ends_at": _("Ends"),
        "is_long": _("Long lockout"),
        "failure_count": _("Failures"),
        "number": _("Lockout number"),
        "lifted_at": _("Lifted"),
        "lifted_by": _("Lifted by"),
        "get_lift_reason_display": _("How it was lifted"),
    }

    def get_base_queryset(self):
        return Lockout.objects.select_related("lifted_by")


def _length(lockout) -> str:
    return _("Long") if lockout.is_long else _("Normal")


class ActiveLockoutsView(LockoutReportMixin, LoginSecurityReportView):
    page_title = _("Active lockouts")
    index_url_name = "wagtail_loginlimit:active_lockouts"
    index_results_url_name = "wagtail_loginlimit:active_lockouts_results"
    filterset_class = ActiveLockoutFilterSet
    default_ordering = "-started_at"
    export_filename = "active-lockouts"
    show_bulk_actions = True
    bulk_model_name = "lockout"
    columns = [
        BulkActionsCheckboxColumn("bulk_actions", obj_type="lockout"),
        LockoutColumn(),
        Column("get_scope_display", label=_("Locked by")),
        Column("ip_address", label=_("IP address"), sort_key="ip_address"),
        DateColumn("started_at", label=_("Started"), sort_key="started_at"),
        Column("ends_at", label=_("Ends"), accessor=ends_display, sort_key="ends_at"),
        Column("length", label=_("Length"), accessor=_length, sort_key="is_long"),
        Column("failure_count", label=_("Failures"), sort_key="failure_count"),
    ]

    def get_base_queryset(self):
        return super().get_base_queryset().active()
