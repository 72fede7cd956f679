"""The "Reactivate" confirmation screen: Wagtail's bulk-action view for one or
many accounts the plugin deactivated."""

from __future__ import annotations

from django.utils.functional import classproperty
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .. import accounts
from ..models import Deactivation
from .base import LoginSecurityBulkAction, count_text
from .deactivated_accounts import DeactivatedAccountsView


class ReactivateBulkAction(LoginSecurityBulkAction):
    display_name = _("Reactivate")
    action_type = "reactivate"
    aria_label = _("Reactivate the selected accounts")
    template_name = "wagtail_loginlimit/bulk_actions/confirm_reactivate.html"
    listing_view_class = DeactivatedAccountsView
    related_fields = ("user",)

    @classproperty
    def models(cls):
        return [Deactivation]

    def check_perm(self, record) -> bool:
        # Accounts reactivated meanwhile (elsewhere) are listed apart.
        return record.is_open

    @classmethod
    def execute_action(cls, objects, by=None, request=None, **kwargs):
        users = {record.user_id: record.user for record in objects}
        count = sum(
            accounts.reactivate(user, by=by, request=request) for user in users.values()
        )
        return count, 0

    def get_title(self, count: int) -> str:
        return ngettext(
            "Reactivate %(number)s account", "Reactivate %(number)s accounts", count
        ) % {"number": count_text(count)}

    def get_success_message(self, num_parent_objects, num_child_objects):
        return ngettext(
            "%(count)s account reactivated.",
            "%(count)s accounts reactivated.",
            num_parent_objects,
        ) % {"count": count_text(num_parent_objects)}
