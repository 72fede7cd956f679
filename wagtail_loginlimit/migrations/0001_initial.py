"""The plugin's tables, and indexes on django-axes' failure log.

The reports, the dashboard and `loginlimit_purge` read axes' failure log by
time: axes indexes its `ip_address`, `username` and `user_agent` columns but
not `attempt_time`, so with a million rows the first
page of "Failed logins" sorted the whole table, and counting an account's
recent failures read all of that account's rows.

A migration cannot `AddIndex` on another app's model, and RunSQL would tie the
index to one database's dialect. This migration asks the schema editor, which
speaks every database Django supports, and leaves the migration state alone:
axes' model is unchanged, so `makemigrations` stays quiet. An index already
present on the same columns is kept (a large table may get them beforehand
with `CREATE INDEX CONCURRENTLY`, see docs/deployment.md); going backwards
drops only the indexes named here.
"""

import django.core.validators
import django.db.models.deletion
import wagtail_loginlimit.fields
from django.conf import settings
from django.db import migrations, models

INDEXES = [
    # The "Failed logins" report, the dashboard, loginlimit_purge.
    ("loginlimit_afl_time_idx", ["attempt_time"]),
    # The report filtered by IP address.
    ("loginlimit_afl_ip_time_idx", ["ip_address", "attempt_time"]),
    # An account's failures in the valid window (deactivation).
    ("loginlimit_afl_user_time_idx", ["username", "attempt_time"]),
]


def _existing(schema_editor, model) -> dict[str, list[str]]:
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(
            cursor, model._meta.db_table
        )
    return {
        name: list(info["columns"])
        for name, info in constraints.items()
        if info.get("index") or info.get("unique") or info.get("primary_key")
    }


def add_indexes(apps, schema_editor):
    model = apps.get_model("axes", "AccessFailureLog")
    existing = _existing(schema_editor, model)
    for name, fields in INDEXES:
        columns = [model._meta.get_field(field).column for field in fields]
        if name in existing or columns in existing.values():
            continue
        schema_editor.add_index(model, models.Index(fields=fields, name=name))


def remove_indexes(apps, schema_editor):
    model = apps.get_model("axes", "AccessFailureLog")
    existing = _existing(schema_editor, model)
    for name, fields in INDEXES:
        if name in existing:
            schema_editor.remove_index(model, models.Index(fields=fields, name=name))


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("axes", "0010_accessattemptexpiration"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="KnownDeviceFailure",
            fields=[
                (
                    "failure",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="loginlimit_known_device",
                        serialize=False,
                        to="axes.accessfailurelog",
                    ),
                ),
            ],
            options={
                "verbose_name": "failure from a known device",
                "verbose_name_plural": "failures from known devices",
            },
        ),
        migrations.CreateModel(
            name="LoginLimitSettings",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                (
                    "enabled",
                    models.BooleanField(
                        default=True,
                        help_text="When off, failed logins are neither counted nor refused.",
                        verbose_name="enabled",
                    ),
                ),
                (
                    "allowed_retries",
                    models.PositiveIntegerField(
                        default=4,
                        help_text="Failed logins allowed before a lockout.",
                        validators=[django.core.validators.MinValueValidator(1)],
                        verbose_name="allowed retries",
                    ),
                ),
                (
                    "lockout_duration",
                    wagtail_loginlimit.fields.DurationSecondsField(
                        default=1200,
                        help_text="How long a normal lockout lasts.",
                        verbose_name="lockout duration",
                    ),
                ),
                (
                    "allowed_lockouts",
                    models.PositiveIntegerField(
                        default=4,
                        help_text="How many lockouts make one round, counted within the valid window: the last lockout of a round is a long one, and the count then starts again. 1 makes every lockout a long one.",
                        validators=[django.core.validators.MinValueValidator(1)],
                        verbose_name="allowed lockouts",
                    ),
                ),
                (
                    "long_duration",
                    wagtail_loginlimit.fields.DurationSecondsField(
                        default=86400,
                        help_text="How long a lockout of a repeat offender lasts.",
                        verbose_name="long lockout duration",
                    ),
                ),
                (
                    "valid_duration",
                    wagtail_loginlimit.fields.DurationSecondsField(
                        default=43200,
                        help_text="A client's count is forgotten after this long without a failure.",
                        verbose_name="valid window",
                    ),
                ),
                (
                    "progressive_delay",
                    models.BooleanField(
                        default=False,
                        help_text="After each failed login the client must wait longer before its next try, twice as long each time; a try that comes too early is refused and not counted.",
                        verbose_name="progressive delay",
                    ),
                ),
                (
                    "captcha_after",
                    models.PositiveIntegerField(
                        default=0,
                        help_text="Failed logins of a client after which its next tries must first pass a check that this is a person (a puzzle the browser solves in a moment, served by this site). A try without it checks no password and is not counted. 0 turns this off.",
                        verbose_name="challenge after",
                    ),
                ),
                (
                    "attack_threshold",
                    models.PositiveIntegerField(
                        default=100,
                        help_text="Failed logins across the whole site within 10 minutes that switch on attack mode: until they stay below this for 10 minutes, every browser that has not signed in before must pass the check first, and the administrators get an email when it starts and when it ends. 0 turns this off.",
                        verbose_name="attack mode after",
                    ),
                ),
                (
                    "lockout_method",
                    models.CharField(
                        choices=[
                            ("ip", "IP address"),
                            ("username", "Username"),
                            ("ip_and_username", "IP address and username together"),
                            (
                                "ip_or_username",
                                "IP address or username, each on its own",
                            ),
                        ],
                        default="ip",
                        help_text="What is counted: the IP address (IPv6 by network), the username, the pair, or each of the two on its own with the stricter one winning.",
                        max_length=20,
                        verbose_name="lock out by",
                    ),
                ),
                (
                    "whitelist",
                    wagtail_loginlimit.fields.AccessListField(
                        blank=True,
                        help_text="IP addresses and CIDR ranges (IPv4 or IPv6) that are trusted and never counted, and usernames that are never locked out by name nor deactivated (their failures still count against the IP address), one per line.",
                        verbose_name="never lock out",
                    ),
                ),
                (
                    "whitelist_only",
                    models.BooleanField(
                        default=False,
                        help_text="Allow logins only from the IP addresses and ranges on the list above: from anywhere else every login, password reset and page password is refused before a password is checked. Usernames on the list do not count here.",
                        verbose_name="only from the whitelist",
                    ),
                ),
                (
                    "blacklist",
                    wagtail_loginlimit.fields.AccessListField(
                        allow_usernames=False,
                        blank=True,
                        help_text="IP addresses and CIDR ranges whose logins are always refused, one per line.",
                        verbose_name="always refuse",
                    ),
                ),
                (
                    "ipv4_prefix",
                    models.PositiveIntegerField(
                        default=32,
                        help_text="IPv4 addresses in one network of this many bits are counted as one client: 32 counts each address, 24 a whole /24.",
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(32),
                        ],
                        verbose_name="IPv4 client size",
                    ),
                ),
                (
                    "ipv6_prefix",
                    models.PositiveIntegerField(
                        default=64,
                        help_text="IPv6 addresses in one network of this many bits are counted as one client: 64 by default, since one subscriber owns a whole /64.",
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(128),
                        ],
                        verbose_name="IPv6 client size",
                    ),
                ),
                (
                    "network_retries",
                    models.PositiveIntegerField(
                        default=20,
                        help_text="Failed logins from all the addresses of one network before the whole network is locked out like a client, so that changing addresses within it gains nothing. 0 turns this off.",
                        verbose_name="network retries",
                    ),
                ),
                (
                    "ipv4_network_prefix",
                    models.PositiveIntegerField(
                        default=24,
                        help_text="The IPv4 network counted by network retries, in bits.",
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(32),
                        ],
                        verbose_name="IPv4 network size",
                    ),
                ),
                (
                    "ipv6_network_prefix",
                    models.PositiveIntegerField(
                        default=48,
                        help_text="The IPv6 network counted by network retries, in bits.",
                        validators=[
                            django.core.validators.MinValueValidator(1),
                            django.core.validators.MaxValueValidator(128),
                        ],
                        verbose_name="IPv6 network size",
                    ),
                ),
                (
                    "deny_usernames",
                    wagtail_loginlimit.fields.UsernameListField(
                        blank=True,
                        help_text="Usernames no real account uses (admin, root…), one per line. One failed login naming one locks the client out at once; the page only says so at its next try.",
                        verbose_name="deny usernames",
                    ),
                ),
                (
                    "deactivate_after",
                    models.PositiveIntegerField(
                        default=0,
                        help_text="Deactivate an account after this many lockouts' worth of failed logins against it, from any IP addresses (this number times the allowed retries). 0 turns this off.",
                        verbose_name="deactivate accounts after",
                    ),
                ),
                (
                    "lockout_notify",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("", "Nothing"),
                            ("log", "Write to the log"),
                            ("email", "Email the administrators"),
                            ("log,email", "Log and email"),
                        ],
                        default="log",
                        max_length=20,
                        verbose_name="on lockout",
                    ),
                ),
                (
                    "notify_email_after",
                    models.PositiveIntegerField(
                        default=4,
                        help_text="Lockouts of one client before the administrators get an email.",
                        verbose_name="email after",
                    ),
                ),
                (
                    "digest",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("", "No digest"),
                            ("daily", "Daily"),
                            ("weekly", "Weekly"),
                        ],
                        default="",
                        help_text="An email to the administrators with the day's or the week's failed logins, lockouts and most frequent addresses and usernames. Sent by the loginlimit_digest command, run from cron or a scheduler.",
                        max_length=10,
                        verbose_name="digest",
                    ),
                ),
            ],
            options={
                "verbose_name": "Login limits",
                "verbose_name_plural": "Login limits",
            },
        ),
        migrations.CreateModel(
            name="AttackPeriod",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                (
                    "started_at",
                    models.DateTimeField(db_index=True, verbose_name="started"),
                ),
                (
                    "ended_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="ended"),
                ),
                (
                    "last_above_at",
                    models.DateTimeField(verbose_name="last at the threshold"),
                ),
                (
                    "peak",
                    models.PositiveIntegerField(
                        default=0, verbose_name="most failures in 10 minutes"
                    ),
                ),
                (
                    "threshold",
                    models.PositiveIntegerField(default=0, verbose_name="threshold"),
                ),
                ("is_open", models.BooleanField(default=True)),
            ],
            options={
                "verbose_name": "attack period",
                "verbose_name_plural": "attack periods",
                "ordering": ["-started_at"],
                "constraints": [
                    models.UniqueConstraint(
                        condition=models.Q(("is_open", True)),
                        fields=("is_open",),
                        name="wagtail_loginlimit_one_open_attack",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="FailureCounter",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("key", models.CharField(max_length=64, unique=True)),
                (
                    "scope",
                    models.CharField(
                        choices=[
                            ("ip", "IP address"),
                            ("username", "Username"),
                            ("ip_and_username", "IP address and username"),
                            ("network", "Network"),
                            ("known_device", "Known device"),
                        ],
                        max_length=20,
                    ),
                ),
                ("ip_group", models.CharField(blank=True, default="", max_length=64)),
                ("username", models.CharField(blank=True, default="", max_length=255)),
                ("failures", models.PositiveIntegerField(default=0)),
                ("last_failure", models.DateTimeField(blank=True, null=True)),
                (
                    "locked_until",
                    models.DateTimeField(blank=True, db_index=True, null=True),
                ),
                ("is_long", models.BooleanField(default=False)),
                ("pending", models.PositiveIntegerField(default=0)),
                ("pending_since", models.DateTimeField(blank=True, null=True)),
                (
                    "entry_point",
                    models.CharField(blank=True, default="", max_length=40),
                ),
                ("tally", models.JSONField(blank=True, default=list)),
            ],
            options={
                "verbose_name": "failure counter",
                "verbose_name_plural": "failure counters",
                "indexes": [
                    models.Index(
                        fields=["username"], name="wagtail_log_usernam_084396_idx"
                    ),
                    models.Index(
                        fields=["ip_group"], name="wagtail_log_ip_grou_d4527b_idx"
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="KeptActive",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("at", models.DateTimeField(db_index=True, verbose_name="kept active")),
                (
                    "failure_count",
                    models.PositiveIntegerField(default=0, verbose_name="failures"),
                ),
                (
                    "ip_address",
                    models.GenericIPAddressField(
                        blank=True, null=True, verbose_name="last IP address"
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="loginlimit_kept_active",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="account",
                    ),
                ),
            ],
            options={
                "verbose_name": "account kept active",
                "verbose_name_plural": "accounts kept active",
                "ordering": ["-at"],
            },
        ),
        migrations.CreateModel(
            name="KnownDevice",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("token_hash", models.CharField(max_length=64, unique=True)),
                ("auth_hash", models.CharField(max_length=128)),
                ("created_at", models.DateTimeField(verbose_name="first sign-in")),
                (
                    "last_used_at",
                    models.DateTimeField(db_index=True, verbose_name="last sign-in"),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="loginlimit_known_devices",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="account",
                    ),
                ),
            ],
            options={
                "verbose_name": "known device",
                "verbose_name_plural": "known devices",
                "ordering": ["-last_used_at"],
            },
        ),
        migrations.CreateModel(
            name="SentDigest",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                (
                    "frequency",
                    models.CharField(
                        choices=[
                            ("", "No digest"),
                            ("daily", "Daily"),
                            ("weekly", "Weekly"),
                        ],
                        max_length=10,
                        verbose_name="frequency",
                    ),
                ),
                ("period_start", models.DateTimeField(verbose_name="period start")),
                ("period_end", models.DateTimeField(verbose_name="period end")),
                ("claimed_at", models.DateTimeField(verbose_name="claimed")),
                (
                    "sent_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="sent"),
                ),
            ],
            options={
                "verbose_name": "sent digest",
                "verbose_name_plural": "sent digests",
                "ordering": ["-period_start"],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("frequency", "period_start"),
                        name="wagtail_loginlimit_digest_once_per_period",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="SignInLink",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("token_hash", models.CharField(max_length=64, unique=True)),
                (
                    "created_at",
                    models.DateTimeField(db_index=True, verbose_name="sent"),
                ),
                (
                    "used_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="used"),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="loginlimit_sign_in_links",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="account",
                    ),
                ),
            ],
            options={
                "verbose_name": "sign-in link",
                "verbose_name_plural": "sign-in links",
            },
        ),
        migrations.CreateModel(
            name="Deactivation",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                (
                    "deactivated_at",
                    models.DateTimeField(db_index=True, verbose_name="deactivated"),
                ),
                ("lockout_count", models.PositiveIntegerField(verbose_name="lockouts")),
                (
                    "failure_count",
                    models.PositiveIntegerField(default=0, verbose_name="failures"),
                ),
                (
                    "ip_address",
                    models.GenericIPAddressField(
                        blank=True, null=True, verbose_name="last IP address"
                    ),
                ),
                (
                    "reactivated_at",
                    models.DateTimeField(
                        blank=True, null=True, verbose_name="reactivated"
                    ),
                ),
                (
                    "reactivate_reason",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("admin", "Reactivated by an administrator"),
                            ("command", "Reactivated from the command line"),
                            ("user_edit", "Made active in the user's account settings"),
                            ("known_device", "Signed in from a known device"),
                        ],
                        default="",
                        max_length=20,
                        verbose_name="how it was reactivated",
                    ),
                ),
                (
                    "reactivated_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="reactivated by",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="loginlimit_deactivations",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="account",
                    ),
                ),
            ],
            options={
                "verbose_name": "account deactivation",
                "verbose_name_plural": "account deactivations",
                "ordering": ["-deactivated_at"],
                "indexes": [
                    models.Index(
                        fields=["user", "reactivated_at"],
                        name="wagtail_log_user_id_cf032f_idx",
                    )
                ],
            },
        ),
        migrations.CreateModel(
            name="Lockout",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("key", models.CharField(db_index=True, max_length=64)),
                (
                    "scope",
                    models.CharField(
                        choices=[
                            ("ip", "IP address"),
                            ("username", "Username"),
                            ("ip_and_username", "IP address and username"),
                            ("network", "Network"),
                            ("known_device", "Known device"),
                        ],
                        max_length=20,
                        verbose_name="locked by",
                    ),
                ),
                (
                    "ip_address",
                    models.GenericIPAddressField(
                        blank=True, null=True, verbose_name="IP address"
                    ),
                ),
                (
                    "ip_group",
                    models.CharField(
                        blank=True, default="", max_length=64, verbose_name="IP group"
                    ),
                ),
                (
                    "username",
                    models.CharField(
                        blank=True, default="", max_length=255, verbose_name="username"
                    ),
                ),
                (
                    "started_at",
                    models.DateTimeField(db_index=True, verbose_name="started"),
                ),
                ("ends_at", models.DateTimeField(db_index=True, verbose_name="ends")),
                (
                    "is_long",
                    models.BooleanField(default=False, verbose_name="long lockout"),
                ),
                ("failure_count", models.PositiveIntegerField(verbose_name="failures")),
                (
                    "number",
                    models.PositiveIntegerField(
                        default=1, verbose_name="lockout number"
                    ),
                ),
                (
                    "entry_point",
                    models.CharField(
                        blank=True,
                        default="",
                        max_length=40,
                        verbose_name="entry point",
                    ),
                ),
                (
                    "lifted_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="lifted"),
                ),
                (
                    "lift_reason",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("unlock", "Unlocked by an administrator"),
                            ("command", "Unlocked from the command line"),
                            ("reactivate", "Lifted when the account was reactivated"),
                            ("login", "Lifted by a successful login"),
                        ],
                        default="",
                        max_length=20,
                        verbose_name="how it was lifted",
                    ),
                ),
                (
                    "lifted_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="lifted by",
                    ),
                ),
            ],
            options={
                "verbose_name": "lockout",
                "verbose_name_plural": "lockouts",
                "ordering": ["-started_at"],
                "permissions": [("manage_loginlimit", "Can manage login limits")],
                "indexes": [
                    models.Index(
                        fields=["key", "ends_at"], name="wagtail_log_key_d24830_idx"
                    )
                ],
            },
        ),
        migrations.RunPython(add_indexes, remove_indexes),
    ]
