"""Wagtail's users app with "Forget known devices" on the user edit screen.

Opt-in, in INSTALLED_APPS in place of `"wagtail.users"` (same app, same label
and tables; only the user viewset differs): see `views.user_edit`.
"""

from django.apps import apps
from django.core.exceptions import ImproperlyConfigured
from wagtail.users.apps import WagtailUsersAppConfig


class UsersAppConfig(WagtailUsersAppConfig):
    user_viewset = "wagtail_loginlimit.views.user_edit.UserViewSet"

    def ready(self) -> None:
        super().ready()
        # Its edit screen needs the plugin's models: without the app, the
        # admin's URLs would fail to load with a RuntimeError naming a model.
        if not apps.is_installed("wagtail_loginlimit"):
            raise ImproperlyConfigured(
                "wagtail_loginlimit.E008: 'wagtail_loginlimit.users_app."
                "UsersAppConfig' is in INSTALLED_APPS but 'wagtail_loginlimit' is "
                "not. HINT: Add 'wagtail_loginlimit' to INSTALLED_APPS, or use "
                "'wagtail.users' instead."
            )
