"""Reports → Login security → Deactivated accounts: accounts the plugin set
inactive and not yet reactivated, with one-click and bulk "Reactivate"."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.urls import NoReverseMatch, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy
from wagtail.admin.ui.tables import (
    BulkActionsCheckboxColumn,
    ButtonsColumnMixin,
    Column,
    DateColumn,
    TitleColumn,
)
from wagtail.admin.widgets.button import ListingButton

from .. import accounts, conf
from ..filters import DeactivationFilterSet
from ..models import Deactivation
from .base import LoginSecurityReportView
from .columns import NOWRAP, bulk_action_url, listing_url


def _username(record: Deactivation) -> str:
    return record.user.get_username()


class AccountColumn(ButtonsColumnMixin, TitleColumn):
    """The account, linked to Wagtail's user editor, with "Reactivate"."""

    def __init__(self, **kwargs):
        super().__init__(
            "account",
            label=_("Account"),
            accessor=_username,
            get_url=lambda record: _user_edit_url(record.user_id),
            get_title_id=lambda record: f"deactivation_{record.pk}_title",
            sort_key=f"user__{get_user_model().USERNAME_FIELD}",
            classname=NOWRAP,
            **kwargs,
        )

    def get_buttons(self, instance, parent_context):
        next_url = listing_url(parent_context)
        return [
            ListingButton(
                _("Reactivate"),
                url=bulk_action_url(
                    "deactivation", "reactivate", [instance.pk], next_url
                ),
                icon_name="user",
                attrs={
                    "aria-label": _("Reactivate %(username)s")
                    % {"username": _username(instance)}
                },
            )
        ]


def _has_email() -> bool:
    """Whether the user model has an `email` field (custom ones may not)."""
    try:
        get_user_model()._meta.get_field("email")
    except FieldDoesNotExist:
        return False
    return True


def _user_edit_url(user_id) -> str | None:
    try:
        return reverse("wagtailusers_users:edit", args=[user_id])
    except NoReverseMatch:  # wagtail.users not installed
        return None


class DeactivatedAccountsView(LoginSecurityReportView):
    model = Deactivation
    page_title = _("Deactivated accounts")
    header_icon = "user"
    index_url_name = "wagtail_loginlimit:deactivated_accounts"
    index_results_url_name = "wagtail_loginlimit:deactivated_accounts_results"
    verbose_name = _("deactivated account")
    verbose_name_plural = _("deactivated accounts")
    count_label = ngettext_lazy(
        "%(number)s deactivated account", "%(number)s deactivated accounts", "count"
    )
    default_ordering = "-deactivated_at"
    export_filename = "deactivated-accounts"
    show_bulk_actions = True
    bulk_model_name = "deactivation"
    filterset_class = DeactivationFilterSet
    export_headings = {
        "user.get_username": _("Account"),
        "user.email": _("Email"),
        "deactivated_at": _("Deactivated"),
        "lockout_count": _("Lockouts"),
        "failure_count": _("Failures"),
        "ip_address": _("Last IP address"),
    }

    @cached_property
    def columns(self):
        return [
            BulkActionsCheckboxColumn("bulk_actions", obj_type="deactivation"),
            AccountColumn(),
            *([Column("user.email", label=_("Email"))] if _has_email() else []),
            DateColumn(
                "deactivated_at",
                label=_("Deactivated"),
                sort_key="deactivated_at",
                classname=NOWRAP,
            ),
            Column("lockout_count", label=_("Lockouts"), sort_key="lockout_count"),
            Column("failure_count", label=_("Failures"), sort_key="failure_count"),
            Column("ip_address", label=_("Last IP address"), classname=NOWRAP),
        ]

    @cached_property
    def list_export(self):
        return [
            "user.get_username",
            *(["user.email"] if _has_email() else []),
            "deactivated_at",
            "lockout_count",
            "failure_count",
            "ip_address",
        ]

    @cached_property
    def search_fields(self):
        fields = [f"user__{get_user_model().USERNAME_FIELD}", "ip_address"]
        if _has_email():
            fields.append("user__email")
        return fields

    def get_base_queryset(self):
        return accounts.deactivated()

    def no_results_note(self) -> str:
        if conf.get_config(self.request).deactivate_after:
            return ""
        return _(
            "Deactivation is off: failed logins never deactivate an account. "
            "Turn it on with “Deactivate accounts after” in Settings → Login limits."
        )
