"""Wires the plugin into the Wagtail admin: URLs, the "Login security" menu,
the permission, log actions, bulk actions and the dashboard panel. No logic
lives here. Imported by `wagtail_hooks` when django-axes is installed."""

import copy

from django.urls import include, path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.admin_url_finder import register_admin_url_finder
from wagtail.admin.menu import Menu, MenuItem, SubmenuMenuItem
from wagtail.admin.staticfiles import versioned_static

from . import audit_log, dashboard, permissions, urls, waiting
from .models import Lockout, LoginLimitSettings
from .views.fixed_limits import all_fixed_in_code
from .views.forget_devices import listing_button
from .views.lockout_history import LockoutURLFinder
from .views.reactivate import ReactivateBulkAction
from .views.unlock import UnlockBulkAction


@hooks.register("register_admin_urls")
def register_admin_urls():
    return [path("login-security/", include(urls, namespace="wagtail_loginlimit"))]


class LoginSecurityMenuItem(MenuItem):
    def is_shown(self, request) -> bool:
        return permissions.user_can_manage(request.user)


# Other apps may add items with the `register_loginlimit_menu_item` hook.
login_security_menu = Menu(register_hook_name="register_loginlimit_menu_item")


@hooks.register("register_admin_menu_item")
def register_login_security_menu():
    return SubmenuMenuItem(
        _("Login security"),
        login_security_menu,
        name="login-security",
        icon_name="lock",
        order=9000,
    )


def _item(label, url_name: str, icon: str, order: int):
    return lambda: LoginSecurityMenuItem(
        label,
        reverse(url_name),
        name=url_name.split(":")[-1],
        icon_name=icon,
        order=order,
    )


for _label, _url_name, _icon, _order in (
    (_("Active lockouts"), "wagtail_loginlimit:active_lockouts", "lock", 100),
    (_("Lockout history"), "wagtail_loginlimit:lockout_history", "history", 200),
    (_("Failed logins"), "wagtail_loginlimit:failed_logins", "warning", 300),
    (_("Deactivated accounts"), "wagtail_loginlimit:deactivated_accounts", "user", 400),
):
    hooks.register(
        "register_loginlimit_menu_item", _item(_label, _url_name, _icon, _order)
    )


@hooks.register("construct_settings_menu")
def point_settings_to_fixed_limits(request, menu_items):
    """When code fixes every limit, Settings → Login limits opens the one
    read-only page that says so (not a form where nothing can change)."""
    if all_fixed_in_code():
        for index, item in enumerate(menu_items):
            if getattr(item, "model", None) is LoginLimitSettings:
                # A copy: the registered item is shared by every request.
                menu_items[index] = copy.copy(item)
                menu_items[index].url = reverse("wagtail_loginlimit:fixed_limits")


@hooks.register("register_permissions")
def register_permissions():
    return permissions.permissions_for_group_editor()


@hooks.register("register_log_actions")
def register_log_actions(actions):
    audit_log.register_actions(actions)


@hooks.register("insert_global_admin_js")
def countdown_script():
    """The progressive delay's countdown on Wagtail's login page, which shows
    no form media (the script does nothing on a page without a countdown)."""
    return format_html(
        '<script src="{}" defer></script>', versioned_static(waiting.SCRIPT)
    )


@hooks.register("loginlimit_block")
def log_lockout(event):
    if event.lockout is not None:
        audit_log.log_lockout(event.lockout)


register_admin_url_finder(Lockout, LockoutURLFinder)  # Site history → the lockout
hooks.register("register_bulk_action", UnlockBulkAction)
hooks.register("register_bulk_action", ReactivateBulkAction)
hooks.register("construct_homepage_panels", dashboard.add_panel)
hooks.register("register_user_listing_buttons", listing_button)
