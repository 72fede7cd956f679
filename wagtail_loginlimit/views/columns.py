"""Table columns shared by the login-security reports."""

from __future__ import annotations

from urllib.parse import urlencode

from django.urls import reverse
from django.utils.formats import date_format
from django.utils.timesince import timeuntil
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _
from wagtail.admin.ui.tables import (
    ButtonsColumnMixin,
    Column,
    DateColumn,
    StatusTagColumn,
    TitleColumn,
)
from wagtail.admin.widgets.button import ListingButton

from ..models import SCOPE_DEVICE, SCOPE_IP, SCOPE_NETWORK, SCOPE_PAIR, SCOPE_USERNAME

# Cells that must stay on one line (an IP address, a date, a button): the
# table then scrolls sideways in its container instead of breaking them.
NOWRAP = "w-whitespace-nowrap"

# Wagtail adds this to a results-fragment URL; a page URL has no use for it.
FRAGMENT_PARAM = "_w_filter_fragment"


def bulk_action_url(model_name: str, action: str, ids: list, next_url: str) -> str:
    """The URL of Wagtail's confirmation page for one of our bulk actions."""
    query = urlencode([*(("id", pk) for pk in ids), ("next", next_url)])
    base = reverse(
        "wagtail_bulk_action", args=["wagtail_loginlimit", model_name, action]
    )
    return f"{base}?{query}"


def listing_url(parent_context) -> str:
    """Where a row button returns to: the listing page with its filters, search
    and ordering, also when the table came from the results-only fragment
    URL that the filters reload (a bare HTML fragment is no page to land on)."""
    request = parent_context.get("request")
    if request is None:
        return ""
    # The view gives its table the listing page's URL as `base_url`.
    table = parent_context.get("table")
    base = getattr(table, "base_url", None) or request.path
    query = request.GET.copy()
    query.pop(FRAGMENT_PARAM, None)
    return f"{base}?{query.urlencode()}" if query else base


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


def lockout_length(lockout) -> str:
    """The Length column: long lockouts apart from normal ones."""
    return _("Long") if lockout.is_long else _("Normal")


def failed_logins_url(lockout) -> str:
    """The failed logins of the client a lockout holds: its IP address (an
    IPv6 client by its network) and/or its username, as the scope counts."""
    query = {}
    ip = lockout.ip_group or lockout.ip_address
    if lockout.scope in (SCOPE_IP, SCOPE_PAIR, SCOPE_NETWORK) and ip:
        query["ip"] = ip
    if lockout.scope in (SCOPE_USERNAME, SCOPE_PAIR, SCOPE_DEVICE) and lockout.username:
        query["username"] = lockout.username
    base = reverse("wagtail_loginlimit:failed_logins")
    return f"{base}?{urlencode(query)}" if query else base


def other_ip_address(lockout) -> str:
    """The address of the failure that caused a lockout, where the "Locked
    out" column does not already show it: a lockout by username, or an IPv6
    client shown by its network."""
    ip = lockout.ip_address or ""
    return "" if ip and ip in lockout.who.split(" @ ") else ip


class LockoutColumn(ButtonsColumnMixin, TitleColumn):
    """Who is locked out, linked to that client's failed logins, with an
    "Unlock" button while the lockout lasts."""

    def __init__(self, name="who", **kwargs):
        kwargs.setdefault("label", _("Locked out"))
        kwargs.setdefault("accessor", "who")
        kwargs.setdefault("get_title_id", lambda lockout: f"lockout_{lockout.pk}_title")
        kwargs.setdefault("get_url", failed_logins_url)
        kwargs.setdefault("classname", NOWRAP)
        super().__init__(name, **kwargs)

    def get_link_attrs(self, instance, parent_context):
        return {
            **super().get_link_attrs(instance, parent_context),
            "title": _("Failed logins of %(who)s") % {"who": instance.who},
        }

    def get_buttons(self, instance, parent_context):
        if not instance.is_active:
            return []
        next_url = listing_url(parent_context)
        return [
            ListingButton(
                _("Unlock"),
                url=bulk_action_url("lockout", "unlock", [instance.pk], next_url),
                icon_name="lock-open",
                attrs={"aria-label": _("Unlock %(who)s") % {"who": instance.who}},
            )
        ]


ENTRY_POINT_LABELS = {
    "login": _("Login"),
    "page_password": _("Page password"),
    "document_password": _("Document password"),
    "password_reset": _("Password reset"),
    "password_reset_link": _("Password reset link"),
    "password_change": _("Password change"),
    "api_token": _("API token"),
    "session_cookie": _("Session cookie"),
    "otp": _("Two-factor code"),
    "sign_in_link": _("Sign-in link"),
}


def entry_point_display(lockout) -> str:
    """Where the lockout began: a built-in entry point's label, or the name a
    plugin gave the API."""
    name = lockout.entry_point_name
    return str(ENTRY_POINT_LABELS.get(name, name))


def lockout_columns() -> list[Column]:
    """The columns both lockout reports start with."""
    return [
        LockoutColumn(),
        Column("entry_point", label=_("Entry point"), accessor=entry_point_display),
        Column("get_scope_display", label=_("Locked by")),
        Column(
            "ip_address",
            label=_("Last IP address"),
            accessor=other_ip_address,
            sort_key="ip_address",
            classname=NOWRAP,
        ),
        DateColumn(
            "started_at", label=_("Started"), sort_key="started_at", classname=NOWRAP
        ),
        Column("ends_at", label=_("Ends"), accessor=ends_display, sort_key="ends_at"),
        StatusTagColumn(
            "length",
            label=_("Length"),
            accessor=lockout_length,
            primary=lambda lockout: lockout.is_long,
            sort_key="is_long",
        ),
        Column("failure_count", label=_("Failures"), sort_key="failure_count"),
    ]
