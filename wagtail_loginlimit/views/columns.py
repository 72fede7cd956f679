"""Table columns shared by the login-security reports."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timesince import timeuntil
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import ButtonsColumnMixin, TitleColumn
from wagtail.admin.widgets.button import ListingButton


def bulk_action_url(model_name: str, action: str, ids: list, next_url: str) -> str:
    """The URL of Wagtail's confirmation page for one of our bulk actions."""
    query = urlencode([*(("id", pk) for pk in ids), ("next", next_url)])
    base = reverse(
        "wagtail_bulk_action", args=["wagtail_loginlimit", model_name, action]
    )
    return f"{base}?{query}"


def lockout_who(lockout) -> str:
    """The client a lockout holds: IP (or IPv6 network), username, or both."""
    if lockout.scope == "username":
        return lockout.username
    if lockout.scope == "ip_and_username":
        return f"{lockout.username} @ {lockout.ip_group}"
    return lockout.ip_group or lockout.ip_address or ""


def ends_display(lockout) -> str:
    """When a lockout ends, as a date and, while it lasts, how long is left
    (Wagtail's relative dates say "Just now" for times in the future)."""
    when = date_format(localtime(lockout.ends_at), "SHORT_DATETIME_FORMAT")
    if not lockout.is_active:
        return when
    return _("%(when)s (in %(duration)s)") % {
        "when": when,
        "duration": timeuntil(lockout.ends_at),
    }


class LockoutColumn(ButtonsColumnMixin, TitleColumn):
    """Who is locked out, with an "Unlock" button while the lockout lasts."""

    def __init__(self, name="who", **kwargs):
        kwargs.setdefault("label", _("Locked out"))
        kwargs.setdefault("accessor", lockout_who)
        kwargs.setdefault("get_title_id", lambda lockout: f"lockout_{lockout.pk}_title")
        super().__init__(name, **kwargs)

    def get_buttons(self, instance, parent_context):
        if not instance.is_active:
            return []
        request = parent_context.get("request")
        next_url = request.get_full_path() if request else ""
        return [
            ListingButton(
                _("Unlock"),
                url=bulk_action_url("lockout", "unlock", [instance.pk], next_url),
                icon_name="lock-open",
                attrs={
                    "aria-label": _("Unlock %(who)s") % {"who": lockout_who(instance)}
                },
            )
        ]
