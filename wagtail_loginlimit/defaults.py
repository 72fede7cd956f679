"""Every configuration key and its default, in one table.

`conf` and `code_settings` parse these, `policy.Limits` and the settings model's
fields take their defaults from here, and a test compares the README's
configuration table with it. Durations are seconds.
"""

from __future__ import annotations

from typing import Any

# The keys that editors see in Settings → Login limits (and that
# `WAGTAIL_LOGINLIMIT` may fix in code instead).
PANEL: dict[str, Any] = {
    "enabled": True,
    "allowed_retries": 4,
    "lockout_duration": 1200,
    "allowed_lockouts": 4,
    "long_duration": 86400,
    "valid_duration": 43200,
    # After the k-th failure of a client its next try must wait
    # progressive_delay_base * 2**(k-1) seconds, at most progressive_delay_max.
    "progressive_delay": False,
    # Failures of a client after which its next tries must pass the
    # challenge (`challenge`) before a password is checked; 0 off.
    "captcha_after": 0,
    # Failed logins across the site within 10 minutes that switch on attack
    # mode (`attack`): every unknown device must pass the challenge; 0 off.
    # 100: far above what a site's own people mistype, far below what a
    # credential-stuffing run makes (docs/configuration.md#defaults).
    "attack_threshold": 100,
    # Addresses counted as one client: the network of this many bits.
    "ipv4_prefix": 32,
    "ipv6_prefix": 64,
    # Failures from one network (of the prefixes below) before the whole
    # network is locked out like a client; 0 turns it off. Five clients'
    # worth (docs/configuration.md says why).
    "network_retries": 20,
    "ipv4_network_prefix": 24,
    "ipv6_network_prefix": 48,
    "lockout_method": "ip",
    "whitelist": [],
    # Logins only from the whitelist's IPs and ranges (403 from anywhere else).
    "whitelist_only": False,
    "blacklist": [],
    # Usernames no real account uses ("admin", "root"…): one failure naming
    # one locks the client out (see `denied`).
    "deny_usernames": [],
    "deactivate_after": 0,
    "lockout_notify": "log",
    "notify_email_after": 4,
    # "", "daily" or "weekly": the admins' email of the period's failures.
    "digest": "",
}

# The keys only code (`WAGTAIL_LOGINLIMIT`) can set.
CODE_ONLY: dict[str, Any] = {
    # Days `loginlimit_purge` keeps attempts, failure logs and lockout history.
    "retention_days": 90,
    # Who gets lockout emails; empty: the active superusers with an address.
    "notify_recipients": [],
    # Where the counters live: "database" (the default database, or wherever
    # the database router sends FailureCounter) or "cache" (a Redis cache).
    "store": "database",
    # The progressive delay's first wait and its cap, in seconds.
    "progressive_delay_base": 1,
    "progressive_delay_max": 300,
    # The Django cache (a key of CACHES) the "cache" store uses.
    "cache_alias": "default",
    # What a login gets while the store cannot be reached: "refuse" (HTTP 503)
    # or "allow" (the login goes on, unprotected).
    "on_store_error": "refuse",
    # authenticate() without `request`: False lets it through uncounted (with
    # one warning); True raises axes' AxesBackendRequestParameterRequired.
    "require_request": False,
    # Password-reset emails asked for per IP address and per email address
    # within `password_reset_window` (seconds); more are refused (429).
    "password_reset_limit": 3,
    "password_reset_window": 3600,
    # API tokens rejected per IP before that IP's tokens are refused (the
    # `api_token` entry point, `wagtail_loginlimit.drf`): higher than a
    # login's, so a script with a stale token does not lock a team's API out
    # at once; in its own namespace, so it never costs a login try.
    "api_token_retries": 20,
    # Session cookies naming no session, per IP, before the address is locked
    # out at `session_cookie` (`session_cookies`); 0: not counted.
    "session_cookie_retries": 100,
    # Wrong two-factor codes per account (django-otp, `otp`) before its
    # second step is locked out; the lockouts follow the configured ones.
    "otp_retries": 5,
    # Failures against one account from unknown devices (within the valid
    # window) after which every unknown device must pass the challenge for
    # it; None: what one client can try in the valid window (16 with the
    # defaults, `budget.tries_per_day`); 0 off.
    "account_budget": None,
    # The challenge's proof of work: PBKDF2 iterations per guess of the
    # browser (about 256 guesses: half a second on a phone).
    "challenge_cost": 5000,
    # A dotted path to a form field class to use as the challenge instead of
    # the built-in ALTCHA one (django-recaptcha's, hCaptcha's, Turnstile's).
    "challenge_field": None,
    # Known devices (`known_devices`): browsers remembered per account, the
    # oldest forgotten past this many; 0 turns known devices off.
    "known_devices": 10,
    # Seconds a known device is remembered after its last sign-in (90 days).
    "known_device_age": 7_776_000,
    # A dotted path to `identify(typed, request) -> str | None`: the account
    # key (its username) counted for what was typed, e.g. an email address;
    # None or "" counts what was typed (see `users.account_key`).
    "identify_account": None,
}

ALL: dict[str, Any] = {**PANEL, **CODE_ONLY}

DURATION_KEYS = ("lockout_duration", "long_duration", "valid_duration")
# Durations only code sets (seconds or `timedelta`, like the panel's).
CODE_DURATION_KEYS = (
    "password_reset_window",
    "progressive_delay_base",
    "progressive_delay_max",
    "known_device_age",
)
