"""`WAGTAIL_LOGINLIMIT`, the Django setting through which code fixes values
(and wins over the admin): parsed and validated once, read lazily and re-read
on Django's `setting_changed`, so `override_settings` works in tests.

Read without the database: the store settings must be known when it is down.
`conf.get_config()` merges these values with the editors' Wagtail setting.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.signals import setting_changed
from django.core.validators import validate_email
from django.dispatch import receiver
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _

from . import defaults, validation

logger = logging.getLogger(__name__)

SETTING_NAME = "WAGTAIL_LOGINLIMIT"

STORES = ("database", "cache")
ON_STORE_ERROR_CHOICES = ("refuse", "allow")
DURATION_KEYS = defaults.DURATION_KEYS
# Network sizes, by the most bits each may have.
PREFIX_KEYS = {
    "ipv4_prefix": 32,
    "ipv6_prefix": 128,
    "ipv4_network_prefix": 32,
    "ipv6_network_prefix": 128,
}


def parse_value(key: str, value: Any) -> Any:
    """One configuration value, validated and in the type `Config` holds."""
    label = key
    if key in ("enabled", "require_request", "whitelist_only", "progressive_delay"):
        return validation.parse_bool(value, label=label)
    if key in ("allowed_retries", "allowed_lockouts"):
        return validation.parse_count(value, minimum=1, label=label)
    if key in (
        "deactivate_after",
        "notify_email_after",
        "captcha_after",
        "attack_threshold",
        "network_retries",
        "session_cookie_retries",
        "known_devices",
    ):
        return validation.parse_count(value, minimum=0, label=label)
    if key in DURATION_KEYS:
        return validation.parse_duration(value, label=label)
    if key == "lockout_method":
        return validation.parse_method(value)
    if key == "whitelist":
        return validation.parse_access_list(value, allow_usernames=True)
    if key == "blacklist":
        return validation.parse_access_list(value, allow_usernames=False)
    if key == "deny_usernames":
        if isinstance(value, str):
            # In code a list, as the whitelist: "admin, root" is a typo away
            # from denying a real name.
            raise ValidationError(
                _("deny_usernames must be a list of usernames, not %(value)r."),
                code="invalid",
                params={"value": value},
            )
        return validation.parse_username_list(value)
    if key == "lockout_notify":
        return validation.parse_notify(value)
    if key == "digest":
        return validation.parse_digest(value)
    if key in PREFIX_KEYS:
        return validation.parse_prefix(value, maximum=PREFIX_KEYS[key], label=label)
    if key in (
        "retention_days",
        "password_reset_limit",
        "api_token_retries",
        "otp_retries",
        "challenge_cost",
    ):
        return validation.parse_count(value, minimum=1, label=label)
    if key in defaults.CODE_DURATION_KEYS:
        return validation.parse_duration(value, label=label)
    if key == "notify_recipients":
        return _parse_recipients(value)
    if key == "identify_account":
        return _parse_callable(key, value)
    if key == "challenge_field":
        return _parse_callable(key, value)
    if key == "account_budget":
        if value is None:
            return None
        return validation.parse_count(value, minimum=0, label=label)
    if key == "store":
        return _parse_choice(key, value, STORES)
    if key == "on_store_error":
        return _parse_choice(key, value, ON_STORE_ERROR_CHOICES)
    if key == "cache_alias":
        if not isinstance(value, str) or not value.strip():
            raise ValidationError(
                _("cache_alias must be the name of a cache in CACHES, not %(value)r."),
                code="invalid",
                params={"value": value},
            )
        return value.strip()
    raise ValidationError(
        _("Unknown key %(key)r; known keys: %(keys)s."),
        code="unknown_key",
        params={"key": key, "keys": ", ".join(defaults.ALL)},
    )


def _parse_choice(key: str, value: Any, choices: tuple[str, ...]) -> str:
    text = value.strip().lower() if isinstance(value, str) else value
    if text not in choices:
        raise ValidationError(
            _("%(key)s must be one of %(choices)s, not %(value)r."),
            code="invalid_choice",
            params={"key": key, "choices": ", ".join(choices), "value": value},
        )
    return text


def _parse_callable(key: str, value: Any) -> Callable | None:
    """A dotted path to a callable (or the callable itself); None or "": none.
    Imported here, so that a bad path is check E001, never a 500 at login."""
    if value is None or value == "":
        return None
    if callable(value):
        return value
    if not isinstance(value, str):
        raise ValidationError(
            _("%(key)s must be a dotted path to a callable, not %(value)r."),
            code="invalid",
            params={"key": key, "value": value},
        )
    try:
        found = import_string(value.strip())
    except ImportError as error:
        raise ValidationError(
            _("%(key)s: %(value)r cannot be imported (%(error)s)."),
            code="invalid",
            params={"key": key, "value": value, "error": error},
        ) from None
    if not callable(found):
        raise ValidationError(
            _("%(key)s: %(value)r is not callable."),
            code="invalid",
            params={"key": key, "value": value},
        )
    return found


def _parse_recipients(value: Any) -> tuple[str, ...]:
    """A list of email addresses (a bare string is refused: "a@x, b@y" is
    ambiguous)."""
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise ValidationError(
            _("notify_recipients must be a list of email addresses, not %(value)r."),
            code="invalid",
            params={"value": value},
        )
    addresses = []
    for item in value:
        address = item.strip() if isinstance(item, str) else ""
        try:
            validate_email(address)
        except ValidationError:
            raise ValidationError(
                _("notify_recipients: %(value)r is not an email address."),
                code="invalid",
                params={"value": item},
            ) from None
        if address not in addresses:
            addresses.append(address)
    return tuple(addresses)


class CodeSettings:
    """`WAGTAIL_LOGINLIMIT` as parsed values, with the errors of bad ones."""

    def __init__(self, raw: Any) -> None:
        self.turned_off = raw is False
        self.values: dict[str, Any] = {}
        self.errors: dict[str, ValidationError] = {}
        if raw is None or raw is True or raw is False:
            return
        if not isinstance(raw, dict):
            self.errors[SETTING_NAME] = ValidationError(
                _("%(name)s must be a dict, True or False, not %(type)s."),
                params={"name": SETTING_NAME, "type": type(raw).__name__},
            )
            return
        for key, value in raw.items():
            try:
                self.values[key] = parse_value(key, value)
            except ValidationError as error:
                self.errors[key] = error
        # A value that conflicts with another is ignored like any invalid one.
        for key, error in validation.check_consistency(self.values).items():
            self.values.pop(key, None)
            self.errors[key] = error

    @property
    def fixed_keys(self) -> frozenset[str]:
        """Panel keys the admin shows read-only."""
        if self.turned_off:
            return frozenset(defaults.PANEL)
        return frozenset(key for key in self.values if key in defaults.PANEL)


_code_settings: CodeSettings | None = None


_reported = False


def code_settings(*, report: bool = True) -> CodeSettings:
    """The parsed `WAGTAIL_LOGINLIMIT`. Its invalid values are logged once, on
    the first use with `report` (at run time); the system checks read it with
    `report=False`, since they report the same errors themselves (E001)."""
    global _code_settings, _reported
    if _code_settings is None:
        _code_settings = CodeSettings(getattr(settings, SETTING_NAME, None))
        _reported = False
    if report and not _reported:
        _reported = True
        for key, error in _code_settings.errors.items():
            logger.error(
                "%s[%r] is invalid and ignored (default used): %s",
                SETTING_NAME,
                key,
                "; ".join(error.messages),
            )
    return _code_settings


@receiver(setting_changed)
def _reload(sender, setting, **kwargs):
    global _code_settings
    if setting == SETTING_NAME:
        _code_settings = None


def code_value(key: str, *, report: bool = True) -> Any:
    """A code-only key's value (`WAGTAIL_LOGINLIMIT`, else its default), read
    without the database: the store settings must be known when it is down."""
    code = code_settings(report=report)
    if key in code.values:
        return code.values[key]
    return parse_value(key, defaults.CODE_ONLY[key])
