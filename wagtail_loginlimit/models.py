"""Storage: the editors' settings, one bounded counter per client, one record per
lockout. Attempts themselves are recorded in django-axes' own failure log."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail.admin.panels import FieldPanel, MultiFieldPanel
from wagtail.contrib.settings.models import BaseGenericSetting, register_setting

from . import code_settings, defaults, request_context, validation
from .admin_forms import BudgetPanel, LoginLimitSettingsForm
from .clients import (
    LOGIN,
    METHOD_IP,
    METHOD_IP_AND_USERNAME,
    METHOD_IP_OR_USERNAME,
    METHOD_USERNAME,
    SCOPE_DEVICE,
    SCOPE_IP,
    SCOPE_NETWORK,
    SCOPE_PAIR,
    SCOPE_USERNAME,
)
from .fields import AccessListField, DurationSecondsField, UsernameListField
from .users import existing_usernames

METHOD_CHOICES = [
    (METHOD_IP, _("IP address")),
    (METHOD_USERNAME, _("Username")),
    (METHOD_IP_AND_USERNAME, _("IP address and username together")),
    (METHOD_IP_OR_USERNAME, _("IP address or username, each on its own")),
]
NOTIFY_CHOICES = [
    ("", _("Nothing")),
    ("log", _("Write to the log")),
    ("email", _("Email the administrators")),
    ("log,email", _("Log and email")),
]
DIGEST_CHOICES = [
    ("", _("No digest")),
    ("daily", _("Daily")),
    ("weekly", _("Weekly")),
]
SCOPE_CHOICES = [
    (SCOPE_IP, _("IP address")),
    (SCOPE_USERNAME, _("Username")),
    (SCOPE_PAIR, _("IP address and username")),
    (SCOPE_NETWORK, _("Network")),
    (SCOPE_DEVICE, _("Known device")),
]


@register_setting(icon="lock")
class LoginLimitSettings(BaseGenericSetting):
    enabled = models.BooleanField(
        _("enabled"),
        default=defaults.PANEL["enabled"],
        help_text=_("When off, failed logins are neither counted nor refused."),
    )
    allowed_retries = models.PositiveIntegerField(
        _("allowed retries"),
        default=defaults.PANEL["allowed_retries"],
        validators=[MinValueValidator(1)],
        help_text=_("Failed logins allowed before a lockout."),
    )
    lockout_duration = DurationSecondsField(
        _("lockout duration"),
        default=defaults.PANEL["lockout_duration"],
        help_text=_("How long a normal lockout lasts."),
    )
    allowed_lockouts = models.PositiveIntegerField(
        _("allowed lockouts"),
        default=defaults.PANEL["allowed_lockouts"],
        validators=[MinValueValidator(1)],
        help_text=_(
            "How many lockouts make one round, counted within the valid window: "
            "the last lockout of a round is a long one, and the count then starts "
            "again. 1 makes every lockout a long one."
        ),
    )
    long_duration = DurationSecondsField(
        _("long lockout duration"),
        default=defaults.PANEL["long_duration"],
        help_text=_("How long a lockout of a repeat offender lasts."),
    )
    valid_duration = DurationSecondsField(
        _("valid window"),
        default=defaults.PANEL["valid_duration"],
        help_text=_("A client's count is forgotten after this long without a failure."),
    )
    progressive_delay = models.BooleanField(
        _("progressive delay"),
        default=defaults.PANEL["progressive_delay"],
        help_text=_(
            "After each failed login the client must wait longer before its next "
            "try, twice as long each time; a try that comes too early is refused "
            "and not counted."
        ),
    )
    captcha_after = models.PositiveIntegerField(
        _("challenge after"),
        default=defaults.PANEL["captcha_after"],
        help_text=_(
            "Failed logins of a client after which its next tries must first pass "
            "a check that this is a person (a puzzle the browser solves in a "
            "moment, served by this site). A try without it checks no password "
            "and is not counted. 0 turns this off."
        ),
    )
    attack_threshold = models.PositiveIntegerField(
        _("attack mode after"),
        default=defaults.PANEL["attack_threshold"],
        help_text=_(
            "Failed logins across the whole site within 10 minutes that switch on "
            "attack mode: until they stay below this for 10 minutes, every browser "
            "that has not signed in before must pass the check first, and the "
            "administrators get an email when it starts and when it ends. 0 "
            "turns this off."
        ),
    )
    lockout_method = models.CharField(
        _("lock out by"),
        max_length=20,
        choices=METHOD_CHOICES,
        default=defaults.PANEL["lockout_method"],
        help_text=_(
            "What is counted: the IP address (IPv6 by network), the username, "
            "the pair, or each of the two on its own with the stricter one winning."
        ),
    )
    whitelist = AccessListField(
        _("never lock out"),
        blank=True,
        help_text=_(
            "IP addresses and CIDR ranges (IPv4 or IPv6) that are trusted and never "
            "counted, and usernames that are never locked out by name nor "
            "deactivated (their failures still count against the IP address), one "
            "per line."
        ),
    )
    whitelist_only = models.BooleanField(
        _("only from the whitelist"),
        default=defaults.PANEL["whitelist_only"],
        help_text=_(
            "Allow logins only from the IP addresses and ranges on the list above: "
            "from anywhere else every login, password reset and page password is "
            "refused before a password is checked. Usernames on the list do not "
            "count here."
        ),
    )
    blacklist = AccessListField(
        _("always refuse"),
        blank=True,
        allow_usernames=False,
        help_text=_(
            "IP addresses and CIDR ranges whose logins are always refused, one per line."
        ),
    )
    ipv4_prefix = models.PositiveIntegerField(
        _("IPv4 client size"),
        default=defaults.PANEL["ipv4_prefix"],
        validators=[MinValueValidator(1), MaxValueValidator(32)],
        help_text=_(
            "IPv4 addresses in one network of this many bits are counted as one "
            "client: 32 counts each address, 24 a whole /24."
        ),
    )
    ipv6_prefix = models.PositiveIntegerField(
        _("IPv6 client size"),
        default=defaults.PANEL["ipv6_prefix"],
        validators=[MinValueValidator(1), MaxValueValidator(128)],
        help_text=_(
            "IPv6 addresses in one network of this many bits are counted as one "
            "client: 64 by default, since one subscriber owns a whole /64."
        ),
    )
    network_retries = models.PositiveIntegerField(
        _("network retries"),
        default=defaults.PANEL["network_retries"],
        help_text=_(
            "Failed logins from all the addresses of one network before the whole "
            "network is locked out like a client, so that changing addresses "
            "within it gains nothing. 0 turns this off."
        ),
    )
    ipv4_network_prefix = models.PositiveIntegerField(
        _("IPv4 network size"),
        default=defaults.PANEL["ipv4_network_prefix"],
        validators=[MinValueValidator(1), MaxValueValidator(32)],
        help_text=_("The IPv4 network counted by network retries, in bits."),
    )
    ipv6_network_prefix = models.PositiveIntegerField(
        _("IPv6 network size"),
        default=defaults.PANEL["ipv6_network_prefix"],
        validators=[MinValueValidator(1), MaxValueValidator(128)],
        help_text=_("The IPv6 network counted by network retries, in bits."),
    )
    deny_usernames = UsernameListField(
        _("deny usernames"),
        blank=True,
        help_text=_(
            "Usernames no real account uses (admin, root…), one per line. One "
            "failed login naming one locks the client out at once; the page "
            "only says so at its next try."
        ),
    )
    deactivate_after = models.PositiveIntegerField(
        _("deactivate accounts after"),
        default=defaults.PANEL["deactivate_after"],
        help_text=_(
            "Deactivate an account after this many lockouts' worth of failed logins "
            "against it, from any IP addresses (this number times the allowed "
            "retries). 0 turns this off."
        ),
    )
    lockout_notify = models.CharField(
        _("on lockout"),
        max_length=20,
        choices=NOTIFY_CHOICES,
        default=defaults.PANEL["lockout_notify"],
        blank=True,
    )
    notify_email_after = models.PositiveIntegerField(
        _("email after"),
        default=defaults.PANEL["notify_email_after"],
        help_text=_("Lockouts of one client before the administrators get an email."),
    )
    digest = models.CharField(
        _("digest"),
        max_length=10,
        choices=DIGEST_CHOICES,
        default=defaults.PANEL["digest"],
        blank=True,
        help_text=_(
            "An email to the administrators with the day's or the week's failed "
            "logins, lockouts and most frequent addresses and usernames. Sent by "
            "the loginlimit_digest command, run from cron or a scheduler."
        ),
    )

    panels = [
        FieldPanel("enabled"),
        MultiFieldPanel(
            [
                FieldPanel("lockout_method"),
                FieldPanel("allowed_retries"),
                FieldPanel("lockout_duration"),
                FieldPanel("valid_duration"),
                FieldPanel("progressive_delay"),
                FieldPanel("captcha_after"),
                FieldPanel("attack_threshold"),
            ],
            heading=_("Lockouts"),
        ),
        MultiFieldPanel(
            [FieldPanel("allowed_lockouts"), FieldPanel("long_duration")],
            heading=_("Repeat offenders"),
        ),
        BudgetPanel(heading=_("What an attacker can try")),
        MultiFieldPanel(
            [
                FieldPanel("whitelist"),
                FieldPanel("whitelist_only"),
                FieldPanel("blacklist"),
                FieldPanel("deny_usernames"),
            ],
            heading=_("Allow and deny lists"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("ipv4_prefix"),
                FieldPanel("ipv6_prefix"),
                FieldPanel("network_retries"),
                FieldPanel("ipv4_network_prefix"),
                FieldPanel("ipv6_network_prefix"),
            ],
            heading=_("Networks"),
        ),
        MultiFieldPanel(
            [FieldPanel("deactivate_after")],
            heading=_("Accounts"),
        ),
        MultiFieldPanel(
            [
                FieldPanel("lockout_notify"),
                FieldPanel("notify_email_after"),
                FieldPanel("digest"),
            ],
            heading=_("Notifications"),
        ),
    ]

    class Meta:
        verbose_name = _("Login limits")
        verbose_name_plural = _("Login limits")

    def __str__(self) -> str:
        return str(_("Login limits"))

    base_form_class = LoginLimitSettingsForm

    def clean(self):
        """The durations must fit together as they will be used: a value fixed
        in `WAGTAIL_LOGINLIMIT` counts, not the one stored under it."""
        super().clean()
        values = {}
        for key in ("lockout_duration", "valid_duration"):
            if getattr(self, key):
                values[key] = timedelta(seconds=getattr(self, key))
        code = code_settings.code_settings()
        values.update(
            {key: code.values[key] for key in values.keys() & code.values.keys()}
        )
        for key in _PREFIX_KEYS:
            if getattr(self, key):
                values[key] = code.values.get(key, getattr(self, key))
        errors = validation.check_consistency(values)
        for version in ("ipv4", "ipv6"):
            key = f"{version}_network_prefix"
            if key in errors and key in code.values:
                # The network is fixed in code: the editable client size is wrong.
                errors.pop(key)
                errors[f"{version}_prefix"] = ValidationError(
                    _(
                        "A client cannot be larger than a network: make this at "
                        "least the network size set in %(setting)s (%(prefix)s)."
                    ),
                    code="too_large",
                    params={
                        "setting": code_settings.SETTING_NAME,
                        "prefix": values[key],
                    },
                )
        if taken := self._denied_accounts():
            errors["deny_usernames"] = ValidationError(
                ngettext(
                    "%(names)s is the username of an existing account: denying it "
                    "would lock its owner out. Remove it from the list.",
                    "%(names)s are the usernames of existing accounts: denying them "
                    "would lock their owners out. Remove them from the list.",
                    len(taken),
                ),
                code="existing_account",
                params={"names": ", ".join(f"“{name}”" for name in taken)},
            )
        if "valid_duration" in errors and "valid_duration" in code.values:
            # The window is fixed in code: the editable lockout is what is wrong.
            errors.pop("valid_duration")
            errors |= {
                "lockout_duration": ValidationError(
                    _(
                        "A lockout must end before the count is forgotten: make "
                        "this shorter than the valid window set in %(setting)s "
                        "(%(seconds)s seconds)."
                    ),
                    code="too_long",
                    params={
                        "setting": code_settings.SETTING_NAME,
                        "seconds": int(values["valid_duration"].total_seconds()),
                    },
                )
            }
        shut_out = self._shuts_out_the_editor(code)
        if shut_out is not None:
            # On the field the editor changed: the switch, or the list when
            # the switch is fixed in code.
            field = "whitelist" if "whitelist_only" in code.values else "whitelist_only"
            errors[field] = shut_out
        if errors:
            raise ValidationError(errors)

    def _shuts_out_the_editor(self, code) -> ValidationError | None:
        """Turning `whitelist_only` on from an address that is not on the
        whitelist would shut out the person saving the form, and everyone
        else who is not: refused, with the address to add. (Outside a request,
        in the shell, there is no address to judge.)"""
        only = code.values.get("whitelist_only", self.whitelist_only)
        if not only or code.fixed_keys >= {"whitelist", "whitelist_only"}:
            return None  # nothing this form changes decides it
        request = request_context.current_request()
        if request is None:
            return None
        if "whitelist" in code.values:
            whitelist = code.values["whitelist"]
        else:
            try:
                whitelist = validation.parse_access_list(
                    self.whitelist, allow_usernames=True
                )
            except ValidationError:
                return None  # the whitelist field reports its own error
        address = request_context.client_address(request)
        if address is not None and whitelist.has_ip(address):
            return None
        if address is None:
            return ValidationError(
                _(
                    "Your IP address is not known, so it cannot be checked "
                    "against the whitelist: turning this on could shut you out."
                ),
                code="shut_out",
            )
        return ValidationError(
            _(
                "Your address %(address)s is not on the whitelist: turning this on "
                "would shut you out. Add your address or network to the whitelist "
                "first."
            ),
            code="shut_out",
            params={"address": address},
        )

    def _denied_accounts(self) -> list[str]:
        """Names in `deny_usernames` that existing accounts use (a value fixed
        in code is the check W032's to report)."""
        if "deny_usernames" in code_settings.code_settings().fixed_keys:
            return []
        names = validation.parse_username_list(self.deny_usernames).usernames
        return existing_usernames(names)

    def stored_values(self) -> tuple:
        """The stored panel values, in `defaults.PANEL` order (hashable, so
        `conf` can memoise what it parses from them)."""
        return tuple(getattr(self, key) for key in defaults.PANEL)

    @staticmethod
    def parse_stored(stored: tuple) -> dict[str, Any]:
        """`stored_values()` as `Config` holds them; entries that no longer
        validate are skipped rather than breaking logins."""
        raw = dict(zip(defaults.PANEL, stored, strict=True))
        return {
            "enabled": raw["enabled"],
            "allowed_retries": max(1, raw["allowed_retries"]),
            "lockout_duration": _stored_duration(raw["lockout_duration"]),
            "allowed_lockouts": max(1, raw["allowed_lockouts"]),
            "long_duration": _stored_duration(raw["long_duration"]),
            "valid_duration": _stored_duration(raw["valid_duration"]),
            "progressive_delay": raw["progressive_delay"],
            **_stored_networks(raw),
            "lockout_method": raw["lockout_method"],
            "whitelist": validation.parse_access_list(
                raw["whitelist"], allow_usernames=True, strict=False
            ),
            "whitelist_only": raw["whitelist_only"],
            "blacklist": validation.parse_access_list(
                raw["blacklist"], allow_usernames=False, strict=False
            ),
            "deny_usernames": validation.parse_username_list(raw["deny_usernames"]),
            "deactivate_after": raw["deactivate_after"],
            "lockout_notify": validation.parse_notify(raw["lockout_notify"]),
            "notify_email_after": raw["notify_email_after"],
            "digest": raw["digest"]
            if raw["digest"] in validation.DIGEST_FREQUENCIES
            else "",
        }

    def as_values(self) -> dict[str, Any]:
        """The stored values as `Config` holds them."""
        return self.parse_stored(self.stored_values())


_PREFIX_KEYS = {
    "ipv4_prefix": 32,
    "ipv6_prefix": 128,
    "ipv4_network_prefix": 32,
    "ipv6_network_prefix": 128,
}


def _stored_networks(raw: dict[str, Any]) -> dict[str, int]:
    """The stored network sizes within their bounds, a network never smaller
    than a client (a row saved before a rule existed must not break logins)."""
    values = {key: min(max(1, raw[key]), most) for key, most in _PREFIX_KEYS.items()}
    for version in ("ipv4", "ipv6"):
        values[f"{version}_network_prefix"] = min(
            values[f"{version}_network_prefix"], values[f"{version}_prefix"]
        )
    values["network_retries"] = raw["network_retries"]
    return values


def _stored_duration(seconds: int) -> timedelta:
    """A stored duration within 1 second and `MAX_DURATION`: a row saved before
    the maximum existed must not make `now + duration` overflow at a login."""
    seconds = min(max(1, seconds), validation.MAX_DURATION_SECONDS)
    return timedelta(seconds=seconds)


class FailureCounter(models.Model):
    """The count of one client (an IP group, a username, or a pair). One row per
    client however many attempts it makes; deleted when the count is reset."""

    key = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=20, choices=SCOPE_CHOICES)
    ip_group = models.CharField(max_length=64, blank=True, default="")
    username = models.CharField(max_length=255, blank=True, default="")
    failures = models.PositiveIntegerField(default=0)
    last_failure = models.DateTimeField(null=True, blank=True)
    locked_until = models.DateTimeField(null=True, blank=True, db_index=True)
    is_long = models.BooleanField(default=False)
    pending = models.PositiveIntegerField(default=0)
    pending_since = models.DateTimeField(null=True, blank=True)
    # The entry point whose namespace the counter is in; "" for logins.
    entry_point = models.CharField(max_length=40, blank=True, default="")
    # An IP's counter: [account tag, failures] pairs since its last lockout (at
    # most `policy.TALLY_SIZE`), what a successful login may forgive.
    tally = models.JSONField(default=list, blank=True)

    class Meta:
        verbose_name = _("failure counter")
        verbose_name_plural = _("failure counters")
        indexes = [models.Index(fields=["username"]), models.Index(fields=["ip_group"])]

    def __str__(self) -> str:
        return f"{self.get_scope_display()}: {self.username or self.ip_group}"


class LockoutQuerySet(models.QuerySet):
    def active(self, now=None):
        return self.filter(lifted_at__isnull=True, ends_at__gt=now or timezone.now())


class Lockout(models.Model):
    """One lockout: who, from when to when, long or not, and how it was lifted."""

    LIFTED_UNLOCK = "unlock"
    LIFTED_COMMAND = "command"
    LIFTED_REACTIVATE = "reactivate"
    # The same value as `events.REASON_LOGIN`, which the handler passes.
    LIFTED_LOGIN = "login"
    LIFT_REASON_CHOICES = [
        (LIFTED_UNLOCK, _("Unlocked by an administrator")),
        (LIFTED_COMMAND, _("Unlocked from the command line")),
        (LIFTED_REACTIVATE, _("Lifted when the account was reactivated")),
        (LIFTED_LOGIN, _("Lifted by a successful login")),
    ]

    key = models.CharField(max_length=64, db_index=True)
    scope = models.CharField(_("locked by"), max_length=20, choices=SCOPE_CHOICES)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    ip_group = models.CharField(_("IP group"), max_length=64, blank=True, default="")
    username = models.CharField(_("username"), max_length=255, blank=True, default="")
    started_at = models.DateTimeField(_("started"), db_index=True)
    ends_at = models.DateTimeField(_("ends"), db_index=True)
    is_long = models.BooleanField(_("long lockout"), default=False)
    failure_count = models.PositiveIntegerField(_("failures"))
    number = models.PositiveIntegerField(_("lockout number"), default=1)
    entry_point = models.CharField(
        _("entry point"), max_length=40, blank=True, default=""
    )
    lifted_at = models.DateTimeField(_("lifted"), null=True, blank=True)
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("lifted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    lift_reason = models.CharField(
        _("how it was lifted"),
        max_length=20,
        choices=LIFT_REASON_CHOICES,
        blank=True,
        default="",
    )

    objects = LockoutQuerySet.as_manager()

    class Meta:
        verbose_name = _("lockout")
        verbose_name_plural = _("lockouts")
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["key", "ends_at"])]
        permissions = [("manage_loginlimit", _("Can manage login limits"))]

    def __str__(self) -> str:
        return _("%(who)s until %(time)s") % {
            "who": self.who,
            "time": date_format(
                timezone.localtime(self.ends_at), "SHORT_DATETIME_FORMAT"
            ),
        }

    @property
    def who(self) -> str:
        """Who is locked out, as listings, commands and logs show it: the IP
        address (IPv6 by network), the username, or "username @ IP"."""
        ip = self.ip_group or self.ip_address or ""
        if self.scope == SCOPE_USERNAME:
            return self.username
        if self.scope in (SCOPE_PAIR, SCOPE_DEVICE):
            return f"{self.username} @ {ip}"  # a device: "alice @ device:7"
        return ip  # an IP group, or a network (`ip_group` holds its text)

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None and self.ends_at > timezone.now()

    @property
    def entry_point_name(self) -> str:
        """The entry point it was started at (`login` for a login)."""
        return self.entry_point or LOGIN


class DeactivationQuerySet(models.QuerySet):
    def open(self):
        """Deactivations not (yet) undone."""
        return self.filter(reactivated_at__isnull=True)


class Deactivation(models.Model):
    """One account the plugin set inactive, and how it came back: the record the
    "deactivated accounts" listing and the audit trail are built on."""

    REACTIVATED_ADMIN = "admin"
    REACTIVATED_COMMAND = "command"
    REACTIVATED_USER_EDIT = "user_edit"
    REACTIVATED_KNOWN_DEVICE = "known_device"
    REACTIVATE_REASON_CHOICES = [
        (REACTIVATED_ADMIN, _("Reactivated by an administrator")),
        (REACTIVATED_COMMAND, _("Reactivated from the command line")),
        (REACTIVATED_USER_EDIT, _("Made active in the user's account settings")),
        (REACTIVATED_KNOWN_DEVICE, _("Signed in from a known device")),
    ]

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="loginlimit_deactivations",
    )
    deactivated_at = models.DateTimeField(_("deactivated"), db_index=True)
    lockout_count = models.PositiveIntegerField(_("lockouts"))
    failure_count = models.PositiveIntegerField(_("failures"), default=0)
    ip_address = models.GenericIPAddressField(
        _("last IP address"), null=True, blank=True
    )
    reactivated_at = models.DateTimeField(_("reactivated"), null=True, blank=True)
    reactivated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reactivated by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reactivate_reason = models.CharField(
        _("how it was reactivated"),
        max_length=20,
        choices=REACTIVATE_REASON_CHOICES,
        blank=True,
        default="",
    )

    objects = DeactivationQuerySet.as_manager()

    class Meta:
        verbose_name = _("account deactivation")
        verbose_name_plural = _("account deactivations")
        ordering = ["-deactivated_at"]
        indexes = [models.Index(fields=["user", "reactivated_at"])]

    def __str__(self) -> str:
        return str(self.user)

    @property
    def is_open(self) -> bool:
        return self.reactivated_at is None


class KeptActive(models.Model):
    """The last active superuser reached its deactivation threshold and was
    kept active (the admins were told instead). The account's count for
    deactivation starts again after it, so the admins hear once per
    would-be deactivation, not once per further failure."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="loginlimit_kept_active",
    )
    at = models.DateTimeField(_("kept active"), db_index=True)
    failure_count = models.PositiveIntegerField(_("failures"), default=0)
    ip_address = models.GenericIPAddressField(
        _("last IP address"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("account kept active")
        verbose_name_plural = _("accounts kept active")
        ordering = ["-at"]

    def __str__(self) -> str:
        return str(self.user)


class SentDigest(models.Model):
    """One digest period (`daily` or `weekly`, by its start) that a run of
    `loginlimit_digest` took on: the unique constraint lets exactly one run
    claim a period, however many run at once; `sent_at` says it went out."""

    frequency = models.CharField(_("frequency"), max_length=10, choices=DIGEST_CHOICES)
    period_start = models.DateTimeField(_("period start"))
    period_end = models.DateTimeField(_("period end"))
    claimed_at = models.DateTimeField(_("claimed"))
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("sent digest")
        verbose_name_plural = _("sent digests")
        ordering = ["-period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["frequency", "period_start"],
                name="wagtail_loginlimit_digest_once_per_period",
            )
        ]

    def __str__(self) -> str:
        return f"{self.frequency} {self.period_start.isoformat()}"


class KnownDevice(models.Model):
    """A browser that signed in to an account (`known_devices`). The browser
    holds a random token in a signed cookie; only the token's SHA-256 is kept
    here, so this table gives nobody a working cookie. `auth_hash` is the
    account's session hash when the device was last used: a password change
    alters it, which voids the device (as it signs the account's sessions out)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="loginlimit_known_devices",
    )
    token_hash = models.CharField(max_length=64, unique=True)
    auth_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField(_("first sign-in"))
    last_used_at = models.DateTimeField(_("last sign-in"), db_index=True)

    class Meta:
        verbose_name = _("known device")
        verbose_name_plural = _("known devices")
        ordering = ["-last_used_at"]

    def __str__(self) -> str:
        return f"{self.user} #{self.pk}"

    @property
    def tag(self) -> str:
        """What the device's counter is keyed by in the place of an IP group."""
        return f"device:{self.pk}"


class KnownDeviceFailure(models.Model):
    """Marks a row of django-axes' failure log as a failure from one of the
    account's known devices: such failures never count towards the account's
    deactivation. Deleted with the row (`loginlimit_purge`)."""

    failure = models.OneToOneField(
        "axes.AccessFailureLog",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="loginlimit_known_device",
    )

    class Meta:
        verbose_name = _("failure from a known device")
        verbose_name_plural = _("failures from known devices")

    def __str__(self) -> str:
        return str(self.failure_id)


class SignInLink(models.Model):
    """One emailed sign-in link (`sign_in_links`): single use, valid for
    `sign_in_links.LIFETIME`. Only the SHA-256 of its random token is kept."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="loginlimit_sign_in_links",
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(_("sent"), db_index=True)
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    class Meta:
        verbose_name = _("sign-in link")
        verbose_name_plural = _("sign-in links")

    def __str__(self) -> str:
        return f"{self.user} {self.created_at.isoformat()}"


class AttackPeriod(models.Model):
    """One period of attack mode (`attack`): from the failure that took the
    site's failed logins per 10 minutes to `attack_threshold`, until they
    stayed below it for 10 minutes."""

    started_at = models.DateTimeField(_("started"), db_index=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    # The last failure seen while the rate was at or above the threshold.
    last_above_at = models.DateTimeField(_("last at the threshold"))
    # The most failed logins seen within 10 minutes.
    peak = models.PositiveIntegerField(_("most failures in 10 minutes"), default=0)
    threshold = models.PositiveIntegerField(_("threshold"), default=0)
    # True until it ends: the one open period is unique (NULLs are not).
    is_open = models.BooleanField(default=True)

    class Meta:
        verbose_name = _("attack period")
        verbose_name_plural = _("attack periods")
        ordering = ["-started_at"]
        constraints = [
            # At most one open period: of two requests that cross the
            # threshold together, one starts it.
            models.UniqueConstraint(
                fields=["is_open"],
                condition=models.Q(is_open=True),
                name="wagtail_loginlimit_one_open_attack",
            )
        ]

    def __str__(self) -> str:
        return self.started_at.isoformat()
