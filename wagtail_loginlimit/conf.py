"""The configuration in force: `WAGTAIL_LOGINLIMIT` (code wins, see
`code_settings`) merged with the "Login limits" Wagtail setting (editors) into
one `Config`.

The Wagtail setting is read at most once per request (Wagtail caches it on the
request), and only by login requests; the merged `Config` is memoised per
combination of code settings and stored values, so a login parses nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import lru_cache
from typing import Any

from . import budget, defaults, validation
from .code_settings import CodeSettings, code_settings, parse_value
from .models import LoginLimitSettings
from .policy import Limits

_PANEL = defaults.PANEL
_CODE = defaults.CODE_ONLY


def _seconds(key: str) -> timedelta:
    return timedelta(seconds=defaults.ALL[key])


@dataclass(frozen=True)
class Config:
    """Every key of `defaults`, parsed (durations as `timedelta`, lists as
    `AccessList`, `lockout_notify` as a tuple of channels)."""

    enabled: bool = _PANEL["enabled"]
    allowed_retries: int = _PANEL["allowed_retries"]
    lockout_duration: timedelta = _seconds("lockout_duration")
    allowed_lockouts: int = _PANEL["allowed_lockouts"]
    long_duration: timedelta = _seconds("long_duration")
    valid_duration: timedelta = _seconds("valid_duration")
    progressive_delay: bool = _PANEL["progressive_delay"]
    captcha_after: int = _PANEL["captcha_after"]
    attack_threshold: int = _PANEL["attack_threshold"]
    progressive_delay_base: timedelta = _seconds("progressive_delay_base")
    progressive_delay_max: timedelta = _seconds("progressive_delay_max")
    ipv4_prefix: int = _PANEL["ipv4_prefix"]
    ipv6_prefix: int = _PANEL["ipv6_prefix"]
    network_retries: int = _PANEL["network_retries"]
    ipv4_network_prefix: int = _PANEL["ipv4_network_prefix"]
    ipv6_network_prefix: int = _PANEL["ipv6_network_prefix"]
    lockout_method: str = _PANEL["lockout_method"]
    whitelist: validation.AccessList = field(default_factory=validation.AccessList)
    blacklist: validation.AccessList = field(default_factory=validation.AccessList)
    whitelist_only: bool = _PANEL["whitelist_only"]
    deny_usernames: validation.AccessList = field(default_factory=validation.AccessList)
    deactivate_after: int = _PANEL["deactivate_after"]
    lockout_notify: tuple[str, ...] = validation.parse_notify(_PANEL["lockout_notify"])
    notify_email_after: int = _PANEL["notify_email_after"]
    digest: str = _PANEL["digest"]
    retention_days: int = _CODE["retention_days"]
    notify_recipients: tuple[str, ...] = tuple(_CODE["notify_recipients"])
    store: str = _CODE["store"]
    cache_alias: str = _CODE["cache_alias"]
    on_store_error: str = _CODE["on_store_error"]
    require_request: bool = _CODE["require_request"]
    password_reset_limit: int = _CODE["password_reset_limit"]
    password_reset_window: timedelta = timedelta(seconds=_CODE["password_reset_window"])
    api_token_retries: int = _CODE["api_token_retries"]
    session_cookie_retries: int = _CODE["session_cookie_retries"]
    otp_retries: int = _CODE["otp_retries"]
    account_budget: int | None = _CODE["account_budget"]
    challenge_cost: int = _CODE["challenge_cost"]
    challenge_field: Any = None  # a form field class, imported
    known_devices: int = _CODE["known_devices"]
    known_device_age: timedelta = timedelta(seconds=_CODE["known_device_age"])
    # `identify(typed, request) -> str | None`, imported (see `users.account_key`).
    identify_account: Callable[[str, Any], str | None] | None = None

    @property
    def limits(self) -> Limits:
        return Limits(
            allowed_retries=self.allowed_retries,
            lockout_duration=self.lockout_duration,
            allowed_lockouts=self.allowed_lockouts,
            long_duration=self.long_duration,
            valid_duration=self.valid_duration,
            network_retries=self.network_retries,
            progressive_delay=self.progressive_delay,
            delay_base=self.progressive_delay_base,
            delay_max=self.progressive_delay_max,
        )

    @property
    def api_token_limits(self) -> Limits:
        """Rejected API tokens: the configured lockouts, after
        `api_token_retries` failures (and no progressive delay: a script
        retries at once)."""
        return replace(
            self.limits,
            allowed_retries=self.api_token_retries,
            progressive_delay=False,
        )

    @property
    def session_cookie_limits(self) -> Limits:
        """Session cookies that name no session: the configured lockouts,
        after `session_cookie_retries` of them."""
        return replace(
            self.limits,
            allowed_retries=max(1, self.session_cookie_retries),
            progressive_delay=False,
        )

    @property
    def otp_limits(self) -> Limits:
        """Two-factor codes: `otp_retries` wrong codes per account, then the
        configured lockouts."""
        return replace(
            self.limits, allowed_retries=self.otp_retries, progressive_delay=False
        )

    @property
    def account_budget_size(self) -> int:
        """Failures against one account from unknown devices before they must
        pass the challenge: `account_budget`, or what one client can try in
        the valid window under these limits (0: off)."""
        if self.account_budget is not None:
            return self.account_budget
        return _valid_window_budget(
            self.allowed_retries,
            self.lockout_duration,
            self.allowed_lockouts,
            self.long_duration,
            self.valid_duration,
        )

    @property
    def account_budget_limits(self) -> Limits:
        """An account budget's count: never a lockout, forgotten after the
        valid window without a failure."""
        return Limits(
            allowed_retries=1_000_000_000,
            lockout_duration=self.lockout_duration,
            allowed_lockouts=1_000_000,
            long_duration=self.long_duration,
            valid_duration=self.valid_duration,
        )

    @property
    def password_reset_limits(self) -> Limits:
        """Password-reset requests: `password_reset_limit` per window, each
        further one refused until the window has passed."""
        window = self.password_reset_window
        return Limits(
            allowed_retries=self.password_reset_limit,
            lockout_duration=window,
            allowed_lockouts=1_000_000,  # never a long lockout
            long_duration=window,
            valid_duration=window,
        )


@lru_cache(maxsize=32)
def _valid_window_budget(
    retries: int, lockout: timedelta, lockouts: int, long: timedelta, valid: timedelta
) -> int:
    """What one client can try within the valid window (computed once per set
    of limits: the arithmetic takes a few milliseconds)."""
    return budget.tries_per_day(
        allowed_retries=retries,
        lockout_duration=lockout,
        allowed_lockouts=lockouts,
        long_duration=long,
        valid_duration=valid,
        window=valid,
    )


DISABLED = Config(enabled=False)


def get_config(request=None, *, report: bool = True) -> Config:
    """The configuration in force for `request` (its site's Wagtail setting).
    `report=False` (system checks) leaves invalid code values to check E001.

    Raises the database's error when the Wagtail setting cannot be read."""
    code = code_settings(report=report)
    if code.turned_off:
        return DISABLED
    stored = None
    if not code.fixed_keys >= _PANEL.keys():
        stored = LoginLimitSettings.load(request_or_site=request).stored_values()
    return _merge(code, stored)


@lru_cache(maxsize=32)
def _merge(code: CodeSettings, stored: tuple | None) -> Config:
    values = {key: parse_value(key, value) for key, value in defaults.ALL.items()}
    if stored is not None:
        values.update(LoginLimitSettings.parse_stored(stored))
    values.update(code.values)
    errors = validation.check_consistency(values)
    if "valid_duration" in errors:
        # An inconsistent mix of code and admin values: keep the count at
        # least as long as a lockout so long lockouts still happen.
        values["valid_duration"] = max(
            values["valid_duration"], values["lockout_duration"] * 2
        )
    if "progressive_delay_max" in errors:
        values["progressive_delay_max"] = values["progressive_delay_base"]
    for version in ("ipv4", "ipv6"):
        # A network never smaller than a client: the client's prefix wins.
        key = f"{version}_network_prefix"
        if key in errors:
            values[key] = values[f"{version}_prefix"]
    return Config(**values)
