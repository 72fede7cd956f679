"""Wagtail's users app with "Forget known devices" on the user edit screen.

Opt-in, in INSTALLED_APPS in place of `"wagtail.users"` (same app, same label
and tables; only the user viewset differs): see `views.user_edit`.
"""

from wagtail.users.apps import WagtailUsersAppConfig


class UsersAppConfig(WagtailUsersAppConfig):
    user_viewset = "wagtail_loginlimit.views.user_edit.UserViewSet"
