"""Settings → Login limits when `WAGTAIL_LOGINLIMIT` fixes every limit: one
read-only page with the values in force and where they are set, instead of a
form in which nothing can be changed (see docs/configuration.md)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from .. import code_settings, defaults
from ..admin_forms import METHOD_LABELS, budget_sentences, current_values
from ..models import NOTIFY_CHOICES, LoginLimitSettings
from ..validation import AccessList
from .base import yes_no

SETTINGS_URL_ARGS = ["wagtail_loginlimit", "loginlimitsettings"]


def all_fixed_in_code() -> bool:
    """Whether `WAGTAIL_LOGINLIMIT` leaves nothing for the panel to change."""
    return code_settings.code_settings().fixed_keys >= defaults.PANEL.keys()


def readable(key: str, value) -> str:
    """A configuration value as the settings panel would show it."""
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, timedelta):
        start = datetime(2001, 1, 1, tzinfo=UTC)  # any moment: only the span counts
        return timesince(start, start + value)
    if isinstance(value, AccessList):
        return ", ".join(value.lines) or "—"
    if key == "lockout_method":
        return str(METHOD_LABELS.get(value, value))
    if key == "lockout_notify":
        return str(dict(NOTIFY_CHOICES).get(",".join(value), ",".join(value)))
    return str(value)


def can_change(user) -> bool:
    return user.has_perm("wagtail_loginlimit.change_loginlimitsettings")


class FixedLimitsView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "wagtail_loginlimit/fixed_limits.html"
    page_title = _("Login limits")
    header_icon = "lock"

    def dispatch(self, request, *args, **kwargs):
        if not can_change(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return [*self.breadcrumbs_items, {"url": "", "label": self.page_title}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        code = code_settings.code_settings()
        values = current_values(None)
        context.update(
            turned_off=code.turned_off,
            setting=code_settings.SETTING_NAME,
            rows=[
                (
                    LoginLimitSettings._meta.get_field(key).verbose_name,
                    readable(key, values[key]),
                )
                for key in defaults.PANEL
            ],
            sentences=[] if code.turned_off else budget_sentences(values),
            all_fixed=all_fixed_in_code(),
            settings_url=reverse("wagtailsettings:edit", args=SETTINGS_URL_ARGS),
        )
        return context
