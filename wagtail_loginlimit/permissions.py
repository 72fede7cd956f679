"""Who may see and act on the login-security screens: one permission,
"Can manage login limits" (`wagtail_loginlimit.manage_loginlimit`), granted to
groups in Wagtail's group editor. The settings panel keeps Wagtail's own
settings permission (`wagtail_loginlimit.change_loginlimitsettings`)."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.db.models import QuerySet
from django.template.response import TemplateResponse
from wagtail.permission_policies import ModelPermissionPolicy

from . import compat
from .models import Deactivation, Lockout

APP_LABEL = "wagtail_loginlimit"
CODENAME = "manage_loginlimit"
PERMISSION = f"{APP_LABEL}.{CODENAME}"
MANAGE = "manage"  # the one action the plugin's policies know

_registered = False


class LoginLimitPermissionPolicy(ModelPermissionPolicy):
    """Every action on the plugin's records (view, unlock, reactivate) needs
    the single "manage" permission, which lives on the `Lockout` model."""

    def __init__(self, model):
        super().__init__(model, auth_model=f"{APP_LABEL}.Lockout")

    def _get_permission_codename(self, action: str) -> str:
        return CODENAME

    # Wagtail 7.4 builds these two from the model's own name rather than
    # through the method above (Wagtail 8 does), so they are routed here too.
    def _get_permission_codenames(self, actions) -> set[str]:
        return {self._get_permission_codename(action) for action in actions}

    def _get_permission_name(self, action: str) -> str:
        return f"{APP_LABEL}.{self._get_permission_codename(action)}"


def register_policies() -> None:
    """Register the policy for every model the plugin's screens list; called
    from `AppConfig.ready()`, before any view asks the registry."""
    global _registered
    if _registered:
        return
    for model in (Lockout, Deactivation):
        compat.register_policy(model, LoginLimitPermissionPolicy(model))
    _registered = True


def policy() -> LoginLimitPermissionPolicy:
    register_policies()
    return compat.get_policy(Lockout)


def user_can_manage(user) -> bool:
    """Whether `user` may see the reports, unlock and reactivate."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return policy().user_has_permission(user, MANAGE)


def permissions_for_group_editor() -> QuerySet:
    """What the `register_permissions` hook offers Wagtail's group editor."""
    return Permission.objects.filter(
        content_type__app_label=APP_LABEL, codename=CODENAME
    )


def forbidden(request) -> TemplateResponse:
    """A 403 page in the admin's layout; Wagtail would turn a raised
    `PermissionDenied` into a redirect to the dashboard instead."""
    return TemplateResponse(
        request, "wagtail_loginlimit/permission_denied.html", status=403
    )
