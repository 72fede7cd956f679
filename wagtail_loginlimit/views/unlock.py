"""The "Unlock" confirmation screen: Wagtail's bulk-action view for one or
many lockouts (GET asks, a CSRF-protected POST unlocks)."""

from __future__ import annotations

from django.utils.functional import classproperty
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail.admin.views.bulk_action import BulkAction

from .. import permissions, unlocking
from ..models import Lockout
from .columns import lockout_who


def clean_ids(values: list[str]) -> list[int]:
    """The numeric ids of a query string; anything else is ignored."""
    return [int(value) for value in values if value.isdigit()]


class UnlockBulkAction(BulkAction):
    display_name = _("Unlock")
    action_type = "unlock"
    aria_label = _("Unlock the selected lockouts")
    template_name = "wagtail_loginlimit/bulk_actions/confirm_unlock.html"
    action_priority = 10

    @classproperty
    def models(cls):
        return [Lockout]

    def dispatch(self, request, *args, **kwargs):
        if not permissions.user_can_manage(request.user):
            return permissions.forbidden(request)
        return super().dispatch(request, *args, **kwargs)

    @classmethod
    def get_queryset(cls, model, object_ids):
        if not isinstance(object_ids, list):  # "all": a queryset of pks
            return list(model.objects.filter(pk__in=object_ids))
        return list(model.objects.filter(pk__in=clean_ids(object_ids)))

    def get_all_objects_in_listing_query(self, parent_id):
        return Lockout.objects.active().values_list("pk", flat=True)

    def check_perm(self, lockout) -> bool:
        # Lockouts that ran out or were lifted meanwhile are listed apart.
        return lockout.is_active

    def object_context(self, lockout):
        return {"item": lockout, "who": lockout_who(lockout)}

    def get_execution_context(self):
        return {"by": self.request.user, "request": self.request}

    @classmethod
    def execute_action(cls, objects, by=None, request=None, **kwargs):
        count = unlocking.unlock_lockouts(
            objects, by=by, reason=Lockout.LIFTED_UNLOCK, request=request
        )
        return count, 0

    def get_success_message(self, num_parent_objects, num_child_objects):
        return ngettext(
            "%(count)s lockout lifted.",
            "%(count)s lockouts lifted.",
            num_parent_objects,
        ) % {"count": num_parent_objects}
