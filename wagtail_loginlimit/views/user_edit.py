""" "Forget known devices" on Wagtail's user edit screen.

Wagtail has no hook for that screen's buttons; its documented way to change the
user views is a custom user viewset, named by the users app's config. So this
is opt-in: put `wagtail_loginlimit.users_app.UsersAppConfig` in INSTALLED_APPS
in place of `"wagtail.users"`, or mix `ForgetDevicesButtonMixin` into the edit
view of a user viewset of your own. The user listing's "More" menu has the
same entry either way (`forget_devices.listing_button`).
"""

from __future__ import annotations

from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _
from wagtail.admin.widgets import Button
from wagtail.users.views import users

from .. import permissions


class ForgetDevicesButtonMixin:
    """Adds "Forget known devices" to a user edit view's header "More" menu,
    for those who may manage login security."""

    @cached_property
    def header_more_buttons(self) -> list:
        buttons = list(super().header_more_buttons)
        if permissions.user_can_manage(self.request.user):
            url = reverse("wagtail_loginlimit:forget_devices", args=[self.object.pk])
            buttons.append(
                Button(
                    _("Forget known devices"),
                    url=f"{url}?{urlencode({'next': self.request.path})}",
                    icon_name="mobile-alt",
                    priority=90,
                )
            )
        return buttons


class EditView(ForgetDevicesButtonMixin, users.EditView):
    pass


class UserViewSet(users.UserViewSet):
    """Wagtail's user viewset with the button on the edit screen."""

    edit_view_class = EditView
