"""Reports → Login security → Active lockouts: who is locked out now, with
"Unlock" for one row and a bulk "Unlock" for the selected rows."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from wagtail.admin.ui.tables import BulkActionsCheckboxColumn

from ..filters import ActiveLockoutFilterSet
from ..models import Lockout
from .base import LoginSecurityReportView
from .columns import lockout_columns


def _username_or_blank(user) -> str:
    return user.get_username() if user else ""


class LockoutReportMixin:
    """Model, search and export fields of the two lockout reports."""

    model = Lockout
    header_icon = "lock"
    verbose_name = _("lockout")
    verbose_name_plural = _("lockouts")
    count_label = ngettext_lazy("%(number)s lockout", "%(number)s lockouts", "count")
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
        "entry_point_name",
    ]
    export_headings = {
        "entry_point_name": _("Entry point"),
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
    custom_field_preprocess = {
        "lifted_by": {"csv": _username_or_blank, "xlsx": _username_or_blank},
    }

    def get_base_queryset(self):
        # Wagtail's UserColumn shows the avatar from the user's profile.
        return Lockout.objects.select_related(
            "lifted_by", "lifted_by__wagtail_userprofile"
        )


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
        *lockout_columns(),
    ]

    def get_base_queryset(self):
        return super().get_base_queryset().active()
