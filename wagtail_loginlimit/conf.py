"""Where the configuration comes from: the `WAGTAIL_LOGINLIMIT` Django setting
(code wins) and the "Login limits" Wagtail setting (editors), merged into one
`Config`.

`WAGTAIL_LOGINLIMIT` is read lazily and re-read on Django's `setting_changed`, so
`override_settings` works in tests. The Wagtail setting is read at most once per
request (Wagtail caches it on the request), and only by login requests.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.signals import setting_changed
from django.core.validators import validate_email
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _

from . import validation
from .policy import Limits

logger = logging.getLogger(__name__)

SETTING_NAME = "WAGTAIL_LOGINLIMIT"

# The keys that editors see in Settings → Login limits, with their defaults.
PANEL_DEFAULTS: dict[str, Any] = {
    "enabled": True,
    "allowed_retries": 4,
    "lockout_duration": 1200,
    "allowed_lockouts": 4,
    "long_duration": 86400,
    "valid_duration": 43200,
    "lockout_method": "ip",
    "whitelist": [],
    "blacklist": [],
    "deactivate_after": 0,
    "lockout_notify": "log",
    "notify_email_after": 4,
    "digest": "",
}
# Keys only code can set.
CODE_DEFAULTS: dict[str, Any] = {
    "ipv6_prefix": 64,
    # Days `loginlimit_purge` keeps attempts, failure logs and lockout history.
    "retention_days": 90,
    # Who gets lockout emails; empty: the active superusers with an address.
    "notify_recipients": [],
    # Where the counters live: "database" (the default database, or wherever
    # the database router sends FailureCounter) or "cache" (a Redis cache).
    "store": "database",
    # The Django cache (a key of CACHES) the "cache" store uses.
    "cache_alias": "default",
    # What a login gets while the store cannot be reached: "refuse" (HTTP 503)
    # or "allow" (the login goes on, unprotected).
    "on_store_error": "refuse",
}
STORES = ("database", "cache")
ON_STORE_ERROR_CHOICES = ("refuse", "allow")
DURATION_KEYS = ("lockout_duration", "long_duration", "valid_duration")


def parse_value(key: str, value: Any) -> Any:
    """One configuration value, validated and in the type `Config` holds."""
    label = key
    if key == "enabled":
        return validation.parse_bool(value, label=label)
    if key in ("allowed_retries", "allowed_lockouts"):
        return validation.parse_count(value, minimum=1, label=label)
    if key in ("deactivate_after", "notify_email_after"):
        return validation.parse_count(value, minimum=0, label=label)
    if key in DURATION_KEYS:
        return validation.parse_duration(value, label=label)
    if key == "lockout_method":
        return validation.parse_method(value)
    if key == "whitelist":
        return validation.parse_access_list(value, allow_usernames=True)
    if key == "blacklist":
        return validation.parse_access_list(value, allow_usernames=False)
    if key == "lockout_notify":
        return validation.parse_notify(value)
    if key == "digest":
        return validation.parse_digest(value)
    if key == "ipv6_prefix":
        prefix = validation.parse_count(value, minimum=1, label=label)
        if prefix > 128:
            raise ValidationError(
                _("ipv6_prefix must be between 1 and 128."), code="max_value"
            )
        return prefix
    if key == "retention_days":
        return validation.parse_count(value, minimum=1, label=label)
    if key == "notify_recipients":
        return _parse_recipients(value)
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
        params={"key": key, "keys": ", ".join([*PANEL_DEFAULTS, *CODE_DEFAULTS])},
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


@dataclass(frozen=True)
class Config:
    enabled: bool = True
    allowed_retries: int = 4
    lockout_duration: timedelta = timedelta(seconds=1200)
    allowed_lockouts: int = 4
    long_duration: timedelta = timedelta(seconds=86400)
    valid_duration: timedelta = timedelta(seconds=43200)
    lockout_method: str = "ip"
    whitelist: validation.AccessList = field(default_factory=validation.AccessList)
    blacklist: validation.AccessList = field(default_factory=validation.AccessList)
    deactivate_after: int = 0
    lockout_notify: tuple[str, ...] = ("log",)
    notify_email_after: int = 4
    digest: str = ""
    ipv6_prefix: int = 64
    retention_days: int = 90
    notify_recipients: tuple[str, ...] = ()
    store: str = "database"
    cache_alias: str = "default"
    on_store_error: str = "refuse"

    @property
    def limits(self) -> Limits:
        return Limits(
            allowed_retries=self.allowed_retries,
            lockout_duration=self.lockout_duration,
            allowed_lockouts=self.allowed_lockouts,
            long_duration=self.long_duration,
            valid_duration=self.valid_duration,
        )


DISABLED = Config(enabled=False)


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
            return frozenset(PANEL_DEFAULTS)
        return frozenset(key for key in self.values if key in PANEL_DEFAULTS)


_code_settings: CodeSettings | None = None


def code_settings() -> CodeSettings:
    global _code_settings
    if _code_settings is None:
        _code_settings = CodeSettings(getattr(settings, SETTING_NAME, None))
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


def code_value(key: str) -> Any:
    """A code-only key's value (`WAGTAIL_LOGINLIMIT`, else its default), read
    without the database: the store settings must be known when it is down."""
    code = code_settings()
    if key in code.values:
        return code.values[key]
    return parse_value(key, CODE_DEFAULTS[key])


_REQUEST_CACHE = "_wagtail_loginlimit_config"


def get_config(request=None) -> Config:
    """The configuration in force, cached on `request` when one is given."""
    cached = getattr(request, _REQUEST_CACHE, None)
    if cached is not None:
        return cached
    code = code_settings()
    if code.turned_off:
        config = DISABLED
    else:
        values = {key: parse_value(key, v) for key, v in PANEL_DEFAULTS.items()}
        values.update({key: parse_value(key, v) for key, v in CODE_DEFAULTS.items()})
        if not code.fixed_keys >= PANEL_DEFAULTS.keys():
            from .models import LoginLimitSettings

            values.update(LoginLimitSettings.load(request_or_site=request).as_values())
        values.update(code.values)
        if validation.check_consistency(values):
            # An inconsistent mix of code and admin values: keep the count at
            # least as long as a lockout so long lockouts still happen.
            values["valid_duration"] = max(
                values["valid_duration"], values["lockout_duration"] * 2
            )
        config = Config(**values)
    if request is not None:
        try:
            setattr(request, _REQUEST_CACHE, config)
        except AttributeError:
            pass
    return config
