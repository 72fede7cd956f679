"""The "Reactivate" confirmation screen: Wagtail's bulk-action view for one or
many accounts the plugin deactivated."""

from __future__ import annotations

from django.utils.functional import classproperty
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail.admin.views.bulk_action import BulkAction

from .. import accounts, permissions
from ..models import Deactivation
from .unlock import clean_ids


class ReactivateBulkAction(BulkAction):
    display_name = _("Reactivate")
    action_type = "reactivate"
    aria_label = _("Reactivate the selected accounts")
    template_name = "wagtail_loginlimit/bulk_actions/confirm_reactivate.html"
    action_priority = 10

    @classproperty
    def models(cls):
        return [Deactivation]

    def dispatch(self, request, *args, **kwargs):
        if not permissions.user_can_manage(request.user):
            return permissions.forbidden(request)
        return super().dispatch(request, *args, **kwargs)

    @classmethod
    def get_queryset(cls, model, object_ids):
        if isinstance(object_ids, list):
            object_ids = clean_ids(object_ids)
        return list(model.objects.filter(pk__in=object_ids).select_related("user"))

    def get_all_objects_in_listing_query(self, parent_id):
        return accounts.deactivated().values_list("pk", flat=True)

    def check_perm(self, record) -> bool:
        # Accounts reactivated meanwhile (elsewhere) are listed apart.
        return record.is_open

    def get_execution_context(self):
        return {"by": self.request.user, "request": self.request}

    @classmethod
    def execute_action(cls, objects, by=None, request=None, **kwargs):
        users = {record.user_id: record.user for record in objects}
        count = sum(
            accounts.reactivate(user, by=by, request=request) for user in users.values()
        )
        return count, 0

    def get_success_message(self, num_parent_objects, num_child_objects):
        return ngettext(
            "%(count)s account reactivated.",
            "%(count)s accounts reactivated.",
            num_parent_objects,
        ) % {"count": num_parent_objects}
