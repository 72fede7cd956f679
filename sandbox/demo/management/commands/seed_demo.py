"""Fill the sandbox with a plausible fortnight of attacks, so that every
login-security screen has something to show (and scripts/screenshots has a
site to photograph).

Today's lockouts, the deactivated account and their Site history entries are
made by real failed logins through Django's test client, from documentation
addresses (198.51.100.0/24, 203.0.113.0/24, 2001:db8::/32), exactly as an
attacker's would be. The fortnight before is written straight into django-axes'
failure log and the lockout history, backdated. Nothing comes from 127.0.0.1,
so you can still log in. Running it again first deletes what it made before.
"""

import ipaddress
import random
from datetime import timedelta

from axes.models import AccessFailureLog
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.test import Client
from django.utils import timezone

from wagtail_loginlimit import unlocking
from wagtail_loginlimit.models import (
    Deactivation,
    FailureCounter,
    Lockout,
    LoginLimitSettings,
)

DAYS = 14
# Today's attackers: (address, username tried).
# None of them is a demo account: only jane is meant to be deactivated.
ACTIVE = [
    ("203.0.113.7", "administrator"),
    ("2001:db8:85a3:8d3:1319:8a2e:370:7348", "root"),
    ("198.51.100.23", "test"),
]
LONG = ("198.51.100.77", "wp-admin")
LIFTED = ("203.0.113.99", "webmaster")
DEACTIVATED_USER = "jane"
# Addresses and usernames of the fortnight before.
ADDRESSES = [
    "198.51.100.4",
    "198.51.100.5",
    "198.51.100.9",
    "198.51.100.150",
    "203.0.113.44",
    "203.0.113.45",
    "192.0.2.10",
    "2001:db8:1:2::7",
    "2001:db8:1:2::8",
    "2001:db8:ff:3::1",
]
# Not the demo accounts' names: their failures would count towards deactivation.
USERNAMES = ["administrator", "root", "test", "wp-admin", "info", "guest", "user"]
AGENTS = [
    "python-requests/2.32.3",
    "curl/8.5.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like "
    "Gecko) Chrome/131.0 Safari/537.36",
    "Go-http-client/1.1",
]


def ip_group(ip):
    """What the plugin counts an address under (an IPv6 address's /64)."""
    address = ipaddress.ip_address(ip)
    if address.version == 4:
        return ip
    return str(ipaddress.ip_network(f"{ip}/64", strict=False))


class Command(BaseCommand):
    help = (
        "Fill the sandbox with demo attacks: failed logins over two weeks, active "
        "and ended lockouts (short, long, lifted) and a deactivated account. Also "
        "creates the demo accounts (create_demo_users --reset). Deletes the "
        "records it made on an earlier run first."
    )

    def handle(self, *args, **options):
        call_command("create_demo_users", reset=True, stdout=self.stdout)
        User = get_user_model()
        admin = User._default_manager.get(username="admin")
        jane, _ = User._default_manager.get_or_create(
            username=DEACTIVATED_USER, defaults={"email": "jane@example.com"}
        )
        jane.set_password("jane-demo-password")
        jane.is_active = True
        jane.save()

        self.forget_everything()
        self.history(random.Random(12))  # noqa: S311 (demo data)

        settings = LoginLimitSettings.load()
        # Today, through real failed logins with the real rules.
        settings.allowed_lockouts = 4
        settings.deactivate_after = 0
        settings.save()
        for ip, username in ACTIVE:
            self.fail(ip, username, 4)
        self.fail(*LIFTED, 4)
        unlocking.unlock_lockouts(
            Lockout.objects.active().filter(ip_address=LIFTED[0]), by=admin
        )
        # 4 failures against jane's account from four addresses: deactivated.
        settings.deactivate_after = 1
        settings.save()
        for number in range(4):
            self.fail(f"203.0.113.{120 + number}", DEACTIVATED_USER, 1)
        # A repeat offender: with one allowed lockout, the first is long.
        settings.allowed_lockouts = 1
        settings.save()
        self.fail(*LONG, 4)

        # What the settings screen shows afterwards.
        settings.allowed_lockouts = 4
        settings.deactivate_after = 3
        settings.lockout_notify = "log,email"
        settings.whitelist = "10.0.0.0/8\n2001:db8:cafe::/48\nops-admin"
        settings.blacklist = "192.0.2.66"
        if hasattr(settings, "digest"):
            settings.digest = "weekly"
        settings.save()

        self.stdout.write(
            f"Seeded: {AccessFailureLog.objects.count()} failed logins, "
            f"{Lockout.objects.active().count()} active lockouts, "
            f"{Lockout.objects.count()} lockouts in all, "
            f"{Deactivation.objects.open().count()} deactivated account."
        )

    def forget_everything(self):
        from wagtail.models import ModelLogEntry

        AccessFailureLog.objects.all().delete()
        Lockout.objects.all().delete()
        FailureCounter.objects.all().delete()
        Deactivation.objects.all().delete()
        ModelLogEntry.objects.filter(action__startswith="wagtail_loginlimit.").delete()

    def fail(self, ip, username, times):
        client = Client(HTTP_HOST="127.0.0.1", HTTP_USER_AGENT=AGENTS[0])
        for _ in range(times):
            client.post(
                "/admin/login/",
                {"username": username, "password": "not-the-password"},
                REMOTE_ADDR=ip,
            )

    def history(self, rng):
        """The fortnight before today: failures and the lockouts they made."""
        now = timezone.now()
        start = (now - timedelta(days=DAYS)).replace(minute=0, second=0, microsecond=0)
        rows, moments = [], []
        for day in range(DAYS):
            # A quiet baseline, and an attack every few days.
            count = rng.randint(3, 12) + (rng.randint(40, 90) if day % 4 == 1 else 0)
            for _ in range(count):
                moment = start + timedelta(days=day, seconds=rng.randint(0, 86399))
                moments.append(moment)
                rows.append(
                    AccessFailureLog(
                        ip_address=rng.choice(ADDRESSES),
                        username=rng.choice(USERNAMES),
                        user_agent=rng.choice(AGENTS),
                        path_info="/admin/login/",
                        locked_out=False,
                    )
                )
        created = AccessFailureLog.objects.bulk_create(rows)
        for row, moment in zip(created, moments, strict=True):
            row.attempt_time = moment
        AccessFailureLog.objects.bulk_update(created, ["attempt_time"])

        lifted = [
            ("", ""),
            (Lockout.LIFTED_UNLOCK, "admin"),
            (Lockout.LIFTED_LOGIN, ""),
            (Lockout.LIFTED_COMMAND, ""),
        ]
        admin = get_user_model()._default_manager.get(username="admin")
        lockouts = []
        for number in range(18):
            ip = rng.choice(ADDRESSES)
            started = start + timedelta(hours=rng.randint(0, (DAYS - 1) * 24))
            is_long = number % 6 == 5
            ends = started + (timedelta(hours=24) if is_long else timedelta(minutes=20))
            reason, by = rng.choice(lifted)
            lockouts.append(
                Lockout(
                    key=f"demo-history-{number}",
                    scope="ip",
                    ip_address=ip,
                    ip_group=ip_group(ip),
                    started_at=started,
                    ends_at=ends,
                    is_long=is_long,
                    failure_count=16 if is_long else 4 * rng.randint(1, 3),
                    number=4 if is_long else rng.randint(1, 3),
                    lifted_at=started + timedelta(minutes=7) if reason else None,
                    lifted_by=admin if by else None,
                    lift_reason=reason,
                )
            )
        Lockout.objects.bulk_create(lockouts)
