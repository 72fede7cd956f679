"""The "Unlock" confirmation screen: Wagtail's bulk-action view for one or
many lockouts (GET asks, a CSRF-protected POST unlocks)."""

from __future__ import annotations

from django.utils.functional import classproperty
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .. import unlocking
from ..models import Lockout
from .active_lockouts import ActiveLockoutsView
from .base import LoginSecurityBulkAction, count_text


class UnlockBulkAction(LoginSecurityBulkAction):
    display_name = _("Unlock")
    action_type = "unlock"
    aria_label = _("Unlock the selected lockouts")
    template_name = "wagtail_loginlimit/bulk_actions/confirm_unlock.html"
    listing_view_class = ActiveLockoutsView

    @classproperty
    def models(cls):
        return [Lockout]

    def check_perm(self, lockout) -> bool:
        # Lockouts that ran out or were lifted meanwhile are listed apart.
        return lockout.is_active

    @classmethod
    def execute_action(cls, objects, by=None, request=None, **kwargs):
        count = unlocking.unlock_lockouts(
            objects, by=by, reason=Lockout.LIFTED_UNLOCK, request=request
        )
        return count, 0

    def get_title(self, count: int) -> str:
        return ngettext(
            "Unlock %(number)s lockout", "Unlock %(number)s lockouts", count
        ) % {"number": count_text(count)}

    def get_success_message(self, num_parent_objects, num_child_objects):
        return ngettext(
            "%(count)s lockout lifted.",
            "%(count)s lockouts lifted.",
            num_parent_objects,
        ) % {"count": count_text(num_parent_objects)}
