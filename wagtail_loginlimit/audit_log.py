"""Entries in Wagtail's audit log (Reports → Site history): the actions this
plugin registers, how they read, and the helpers that write them.

Lockouts and unlocks are logged against the `Lockout` record, deactivations and
reactivations against the user account. Formatters read only `log_entry.data`
and fall back to a plain sentence when a key is missing, so old or hand-made
entries never break the history page.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.formats import date_format
from django.utils.timezone import localtime
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail.log_actions import LogFormatter, get_active_log_context
from wagtail.log_actions import log as wagtail_log
from wagtail.log_actions import registry as log_registry

LOCKOUT = "wagtail_loginlimit.lockout"
UNLOCK = "wagtail_loginlimit.unlock"
DEACTIVATE = "wagtail_loginlimit.deactivate"
REACTIVATE = "wagtail_loginlimit.reactivate"
FORGET_DEVICES = "wagtail_loginlimit.forget_devices"


def _when(value: Any) -> str:
    """An ISO timestamp from `data`, shown in the admin's time zone."""
    moment = parse_datetime(value) if isinstance(value, str) else None
    if moment is None:
        return str(value)
    return date_format(localtime(moment), "DATETIME_FORMAT")


def _who(data: dict) -> str:
    """The client a lockout held, as the scope it was counted under names it."""
    username, ip = data.get("username"), data.get("ip_group") or data.get("ip_address")
    scope = data.get("scope")
    if scope == "username":
        ip = None
    elif scope == "ip":
        username = None
    if username and ip:
        return f"{username} @ {ip}"
    return str(username or ip or "")


class LockoutFormatter(LogFormatter):
    label = _("Login lockout")

    def format_message(self, log_entry) -> str:
        data = log_entry.data or {}
        who, until = _who(data), data.get("ends_at")
        if who and until:
            message = (
                _("Long lockout of %(who)s until %(until)s")
                if data.get("is_long")
                else _("Locked out %(who)s until %(until)s")
            )
            return message % {"who": who, "until": _when(until)}
        if who:
            return _("Locked out %(who)s") % {"who": who}
        return _("Locked out after too many failed logins")


class UnlockFormatter(LogFormatter):
    label = _("Login unlock")

    def format_message(self, log_entry) -> str:
        data = log_entry.data or {}
        who = _who(data)
        if data.get("reason") == "reactivate":
            if who:
                return _(
                    "Lifted the lockout of %(who)s as the account was reactivated"
                ) % {"who": who}
            return _("Lifted a lockout as the account was reactivated")
        if data.get("reason") == "command":
            if who:
                return _("Unlocked %(who)s from the command line") % {"who": who}
            return _("Unlocked from the command line")
        if who:
            return _("Unlocked %(who)s") % {"who": who}
        return _("Unlocked")


class DeactivateFormatter(LogFormatter):
    label = _("Account deactivated by login limits")

    def format_message(self, log_entry) -> str:
        count = (log_entry.data or {}).get("lockout_count")
        if isinstance(count, int) and count > 0:
            return ngettext(
                "Account deactivated after %(count)s lockout",
                "Account deactivated after %(count)s lockouts",
                count,
            ) % {"count": count}
        return _("Account deactivated after repeated lockouts")


class ReactivateFormatter(LogFormatter):
    label = _("Account reactivated")

    def format_message(self, log_entry) -> str:
        reason = (log_entry.data or {}).get("reason")
        if reason == "command":
            return _("Account reactivated from the command line")
        if reason == "user_edit":
            return _("Account made active in the user editor")
        if reason == "known_device":
            return _("Account reactivated by a sign-in from a known device")
        return _("Account reactivated")


class ForgetDevicesFormatter(LogFormatter):
    label = _("Known devices forgotten")

    def format_message(self, log_entry) -> str:
        count = (log_entry.data or {}).get("count")
        if not isinstance(count, int):
            return _("Known devices forgotten")
        return ngettext(
            "%(count)s known device forgotten",
            "%(count)s known devices forgotten",
            count,
        ) % {"count": count}


def register_actions(actions) -> None:
    """Called from the `register_log_actions` hook."""
    actions.register_action(LOCKOUT)(LockoutFormatter)
    actions.register_action(UNLOCK)(UnlockFormatter)
    actions.register_action(DEACTIVATE)(DeactivateFormatter)
    actions.register_action(REACTIVATE)(ReactivateFormatter)
    actions.register_action(FORGET_DEVICES)(ForgetDevicesFormatter)


def _lockout_data(lockout) -> dict[str, Any]:
    return {
        "scope": lockout.scope,
        "ip_address": lockout.ip_address,
        "ip_group": lockout.ip_group,
        "username": lockout.username,
        "started_at": lockout.started_at.isoformat() if lockout.started_at else None,
        "ends_at": lockout.ends_at.isoformat() if lockout.ends_at else None,
        "is_long": lockout.is_long,
        "failure_count": lockout.failure_count,
        "number": lockout.number,
        "entry_point": getattr(lockout, "entry_point", "") or "login",
    }


def _title(lockout) -> str:
    # Stored once, so not translated (a lockout is logged in the attacker's
    # request, in whatever language it asked for): the client itself.
    return _who(_lockout_data(lockout)) or f"Lockout {lockout.pk}"


def log_lockout(lockout):
    """A lockout began (from the `loginlimit_block` hook); no acting user."""
    return wagtail_log(
        lockout, LOCKOUT, user=None, title=_title(lockout), data=_lockout_data(lockout)
    )


def log_unlock(lockout, *, by=None, reason: str = ""):
    """An administrator (`by`) or a command lifted `lockout`."""
    data = {**_lockout_data(lockout), "reason": reason}
    return wagtail_log(lockout, UNLOCK, user=by, title=_title(lockout), data=data)


def log_unlocks(lockouts: Iterable, *, by=None, reason: str = "") -> None:
    """`log_unlock` for each of `lockouts` (a bulk unlock), written in a few
    INSERTs: Wagtail's `log()` writes one row per call. The entries are those
    `log()` would write (same model, user, action, title, data and the active
    log context's UUID); a log model of another app's own making is written
    through `log()`, one by one."""
    from wagtail.models import ModelLogEntry
    from wagtail.models.audit_log import ModelLogEntryManager

    lockouts = list(lockouts)
    if not lockouts:
        return
    model = log_registry.get_log_model_for_model(type(lockouts[0]))
    if model is None:
        return  # as log() does when no log model is registered
    if not (
        issubclass(model, ModelLogEntry)
        and type(model.objects).log_action is ModelLogEntryManager.log_action
    ):
        for lockout in lockouts:
            log_unlock(lockout, by=by, reason=reason)
        return
    from django.contrib.contenttypes.models import ContentType

    context = get_active_log_context()
    user, uuid = by or context.user, context.uuid
    content_type = ContentType.objects.get_for_model(
        lockouts[0], for_concrete_model=False
    )
    timestamp = timezone.now()
    model.objects.bulk_create(
        [
            model(
                content_type=content_type,
                object_id=str(lockout.pk),
                label=_title(lockout),
                action=UNLOCK,
                timestamp=timestamp,
                data={**_lockout_data(lockout), "reason": reason},
                user=user,
                uuid=uuid,
            )
            for lockout in lockouts
        ]
    )


def log_deactivation(user, *, lockout_count: int | None = None, by=None, **data: Any):
    """The plugin set `user` inactive after repeated lockouts. Extra keyword
    values (JSON-serialisable) are kept in the entry's data."""
    data = {**data, "lockout_count": lockout_count}
    return wagtail_log(user, DEACTIVATE, user=by, data=data)


def log_reactivation(user, by=None, *, reason: str = "", **data: Any):
    """`by` (an admin, or None for a command) made `user` active again."""
    data = {**data, "reason": reason}
    return wagtail_log(user, REACTIVATE, user=by, data=data)


def log_forgotten_devices(user, count: int, by=None):
    """`by` (an admin, or None for a command) forgot `user`'s known devices."""
    return wagtail_log(user, FORGET_DEVICES, user=by, data={"count": count})
