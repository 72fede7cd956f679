""" "Forget known devices" for one account: a confirmation screen (GET) and a
CSRF-protected POST, reached from the user listing's "More" menu (and from the
user edit screen with `users_app.UsersAppConfig`, see `user_edit`). For a lost
or shared laptop: the account's browsers are strangers again until they next
sign in (see `known_devices`)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.generic import TemplateView
from wagtail.admin.utils import get_valid_next_url_from_request
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.widgets import ListingButton

from .. import known_devices, permissions
from ..models import KnownDevice


class ForgetDevicesView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "wagtail_loginlimit/forget_devices.html"
    page_title = _("Forget known devices")
    header_icon = "lock"

    def dispatch(self, request, *args, **kwargs):
        if not permissions.user_can_manage(request.user):
            return permissions.forbidden(request)
        self.account = get_object_or_404(get_user_model(), pk=kwargs["user_id"])
        return super().dispatch(request, *args, **kwargs)

    def get_page_subtitle(self):
        return self.account.get_username()

    def get_breadcrumbs_items(self):
        return [
            *self.breadcrumbs_items,
            {"url": reverse("wagtailusers_users:index"), "label": _("Users")},
            {"url": "", "label": self.page_title},
        ]

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            account=self.account,
            count=KnownDevice.objects.filter(user=self.account).count(),
            next_url=self.next_url(),
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        count = known_devices.forget(self.account, by=request.user)
        messages.success(
            request,
            ngettext(
                "%(count)s known device of “%(username)s” forgotten.",
                "%(count)s known devices of “%(username)s” forgotten.",
                count,
            )
            % {"count": count, "username": self.account.get_username()},
        )
        return redirect(self.next_url())

    def next_url(self) -> str:
        """Back where the admin came from (this site only), else the listing."""
        return get_valid_next_url_from_request(self.request) or reverse(
            "wagtailusers_users:index"
        )


def listing_button(user, request_user):
    """The user listing's "More" menu entry (`register_user_listing_buttons`)."""
    if not permissions.user_can_manage(request_user):
        return []
    return [
        ListingButton(
            _("Forget known devices"),
            reverse("wagtail_loginlimit:forget_devices", args=[user.pk]),
            priority=90,
        )
    ]
