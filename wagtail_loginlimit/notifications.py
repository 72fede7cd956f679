"""Telling operators about lockouts, as `lockout_notify` says: a log warning per
lockout (`log`), and one email per lockout to the site's admins (`email`) once a
client's lockouts in the valid window reach `notify_email_after`.

`notify_lockout` is called by the handler exactly once, right after the failure
that started the lockout was recorded; nothing that renders a page calls it. An
email that cannot be rendered or sent is logged and never breaks the login.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from wagtail.admin.utils import get_admin_base_url

from . import security_log
from .clients import (
    SCOPE_DEVICE,
    SCOPE_NETWORK,
    SCOPE_PAIR,
    SCOPE_USERNAME,
    ClientIdentity,
)
from .conf import Config
from .models import Lockout

logger = logging.getLogger(__name__)

# Templates a site can override (same paths in its own templates folder).
SUBJECT_TEMPLATE = "wagtail_loginlimit/emails/lockout_subject.txt"
TEXT_TEMPLATE = "wagtail_loginlimit/emails/lockout.txt"
HTML_TEMPLATE = "wagtail_loginlimit/emails/lockout.html"
LOCKOUT_TEMPLATES = (SUBJECT_TEMPLATE, TEXT_TEMPLATE, HTML_TEMPLATE)

REPORT_URL_NAME = "wagtail_loginlimit:active_lockouts"
FALLBACK_URL_NAME = "wagtailadmin_home"


def notify_lockout(
    lockout: Lockout, client: ClientIdentity, config: Config, request=None
) -> None:
    """Called once for every lockout that begins."""
    if "log" in config.lockout_notify:
        security_log.log_lockout(
            client,
            lockout.scope,
            lockout.ends_at,
            lockout.is_long,
            lockout.failure_count,
            lockout.entry_point_name,
            lockout.ip_group if lockout.scope == SCOPE_NETWORK else None,
        )
    if "email" in config.lockout_notify and should_email(lockout, config):
        send_lockout_email(lockout, client, config)


def should_email(lockout: Lockout, config: Config) -> bool:
    """From the client's `notify_email_after`-th lockout in the valid window on
    (0 and 1: every lockout). A long lockout always qualifies: the count starts
    again after it, so a threshold above `allowed_lockouts` would otherwise
    never be reached."""
    return lockout.is_long or lockout.number >= config.notify_email_after


def recipients(config: Config) -> list[str]:
    """`notify_recipients`, or else every active superuser with an address."""
    if config.notify_recipients:
        return list(config.notify_recipients)
    User = get_user_model()
    email_field = User.get_email_field_name()
    users = User._default_manager.filter(is_superuser=True, is_active=True).exclude(
        **{f"{email_field}__exact": ""}
    )
    addresses: list[str] = []
    for user in users.order_by("pk"):
        address = (getattr(user, email_field, "") or "").strip()
        if address and address not in addresses:
            addresses.append(address)
    return addresses


def report_url() -> str:
    """The active-lockouts report (or the admin home if the report is not
    installed), absolute when `WAGTAILADMIN_BASE_URL` is set. The request's own
    Host header is never used: an attacker controls it."""
    return _url(REPORT_URL_NAME) or _url(FALLBACK_URL_NAME)


def who(lockout: Lockout, client: ClientIdentity) -> str:
    """What the lockout holds, for the subject: the IP (or IPv6 network), the
    username as typed (shown safely), or both."""
    ip = lockout.ip_address or client.ip_address or lockout.ip_group or "-"
    username = security_log.printable(client.raw_username or lockout.username)
    if lockout.scope == SCOPE_USERNAME:
        return username
    if lockout.scope in (SCOPE_PAIR, SCOPE_DEVICE):
        return f"{username} @ {ip}"  # a device: the account, where it failed
    if lockout.scope == SCOPE_NETWORK:
        return lockout.ip_group  # the whole network is locked, not one address
    return ip


def email_context(lockout: Lockout, client: ClientIdentity) -> dict:
    return {
        "who": who(lockout, client),
        "site_name": getattr(settings, "WAGTAIL_SITE_NAME", "") or "",
        "ip_address": lockout.ip_address or client.ip_address or "",
        "ip_group": lockout.ip_group or client.ip_group,
        "username": security_log.printable(client.raw_username),
        "scope": lockout.get_scope_display(),
        "failure_count": lockout.failure_count,
        "lockout_count": lockout.number,
        "started_at": lockout.started_at,
        "ends_at": lockout.ends_at,
        "is_long": lockout.is_long,
        "report_url": report_url(),
        "lockout": lockout,
    }


def build_email(
    templates: tuple[str, str, str], context: dict, to: list[str]
) -> EmailMultiAlternatives:
    """An email from (subject, text, HTML) templates, rendered in the site's
    language (`LANGUAGE_CODE`) and time zone, not the attacker's."""
    subject_template, text_template, html_template = templates
    with translation.override(settings.LANGUAGE_CODE), timezone.override(None):
        subject = render_to_string(subject_template, context)
        text = render_to_string(text_template, context)
        html = render_to_string(html_template, context)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()), body=text, to=to
    )
    message.attach_alternative(html, "text/html")
    return message


def build_lockout_email(
    lockout: Lockout, client: ClientIdentity, to: list[str]
) -> EmailMultiAlternatives:
    return build_email(LOCKOUT_TEMPLATES, email_context(lockout, client), to)


def send_admin_email(
    what: str, templates: tuple[str, str, str], context, config: Config
) -> bool:
    """Send one notification email to the admins; True if it went out. Nothing
    here raises: a mail server that is down is logged and the login goes on.
    `context` is a callable, so that building it cannot raise either."""
    try:
        to = recipients(config)
        if not to:
            logger.warning(
                "%s email not sent: no recipients (set notify_recipients in "
                "WAGTAIL_LOGINLIMIT or give a superuser an email address).",
                what.capitalize(),
            )
            return False
        build_email(templates, context(), to).send()
    except Exception:
        logger.exception("The %s email could not be sent; the login goes on.", what)
        return False
    return True


def send_lockout_email(
    lockout: Lockout, client: ClientIdentity, config: Config
) -> bool:
    """Send the lockout's email (`notify_lockout` is called once per lockout,
    so it is sent once); True if it went out."""
    return send_admin_email(
        "lockout", LOCKOUT_TEMPLATES, lambda: email_context(lockout, client), config
    )


# --- account deactivation (see `accounts`) ---

DEACTIVATION_SUBJECT_TEMPLATE = "wagtail_loginlimit/emails/deactivation_subject.txt"
DEACTIVATION_TEXT_TEMPLATE = "wagtail_loginlimit/emails/deactivation.txt"
DEACTIVATION_HTML_TEMPLATE = "wagtail_loginlimit/emails/deactivation.html"
DEACTIVATION_TEMPLATES = (
    DEACTIVATION_SUBJECT_TEMPLATE,
    DEACTIVATION_TEXT_TEMPLATE,
    DEACTIVATION_HTML_TEMPLATE,
)
DEACTIVATED_REPORT_URL_NAME = "wagtail_loginlimit:deactivated_accounts"


def notify_deactivation(
    user, config: Config, request=None, *, deactivation=None
) -> None:
    """Called once for every account the plugin deactivates: a log warning
    (`log`) and, with `email`, one email to the admins whatever
    `notify_email_after` says — a deactivation needs someone to act."""
    if "log" in config.lockout_notify:
        security_log.log_deactivation(user.pk, user.get_username())
    if "email" in config.lockout_notify:
        send_deactivation_email(user, config, deactivation)


def deactivation_context(user, deactivation=None) -> dict:
    return {
        "site_name": getattr(settings, "WAGTAIL_SITE_NAME", "") or "",
        "username": security_log.printable(user.get_username()),
        "failure_count": getattr(deactivation, "failure_count", None),
        "lockout_count": getattr(deactivation, "lockout_count", None),
        "ip_address": getattr(deactivation, "ip_address", None) or "",
        "deactivated_at": getattr(deactivation, "deactivated_at", None)
        or timezone.now(),
        "report_url": _url(DEACTIVATED_REPORT_URL_NAME) or report_url(),
    }


def send_deactivation_email(user, config: Config, deactivation=None) -> bool:
    """Send the deactivation's one email; True if it went out."""
    return send_admin_email(
        "deactivation",
        DEACTIVATION_TEMPLATES,
        lambda: deactivation_context(user, deactivation),
        config,
    )


# --- the last active superuser, kept active (see `accounts`) ---

KEPT_ACTIVE_TEMPLATES = (
    "wagtail_loginlimit/emails/kept_active_subject.txt",
    "wagtail_loginlimit/emails/kept_active.txt",
    "wagtail_loginlimit/emails/kept_active.html",
)
FAILED_LOGINS_URL_NAME = "wagtail_loginlimit:failed_logins"


def notify_kept_active(user, config: Config, request=None, *, kept=None) -> None:
    """Called once per would-be deactivation of the last active superuser:
    one warning in the log and one email to the admins, whatever
    `lockout_notify` says — failures tried to take away the site's last
    administrator, and someone should look."""
    failures = getattr(kept, "failure_count", 0)
    security_log.log_kept_active(user.pk, user.get_username(), failures)
    send_admin_email(
        "kept-active",
        KEPT_ACTIVE_TEMPLATES,
        lambda: {
            "site_name": getattr(settings, "WAGTAIL_SITE_NAME", "") or "",
            "username": security_log.printable(user.get_username()),
            "failure_count": failures,
            "ip_address": getattr(kept, "ip_address", None) or "",
            "report_url": _url(FAILED_LOGINS_URL_NAME) or report_url(),
        },
        config,
    )


def failed_logins_url() -> str:
    """The "Failed logins" report, absolute with `WAGTAILADMIN_BASE_URL`."""
    return _url(FAILED_LOGINS_URL_NAME) or report_url()


def _url(name: str) -> str:
    """The admin URL `name`, absolute with `WAGTAILADMIN_BASE_URL`; "" if the
    name does not resolve."""
    try:
        path = reverse(name)
    except NoReverseMatch:
        return ""
    base = get_admin_base_url()
    return f"{base.rstrip('/')}{path}" if base else path
