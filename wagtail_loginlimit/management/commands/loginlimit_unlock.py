"""`manage.py loginlimit_unlock --ip IP | --username NAME | --network NET | --all`: lift
lockouts and forget failed-login counts, as the admin's unlock button does."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from wagtail_loginlimit import unlocking
from wagtail_loginlimit.models import Lockout
from wagtail_loginlimit.security_log import printable


class Command(BaseCommand):
    @property
    def help(self) -> str:  # a property: argparse needs a str, in the active language
        return _(
            "Lift the active lockouts and forget the failed-login counts of an IP "
            "address, a username, both together, or everyone. Fires loginlimit_reset "
            "and writes the audit log, as unlocking in the admin does."
        )

    def add_arguments(self, parser):
        parser.add_argument(
            "--ip",
            help=_(
                "An IPv4 or IPv6 address. An IPv6 address unlocks the network it "
                "is counted under (a /64 by default); that network itself "
                "(e.g. 2001:db8::/64) is accepted too. Wider ranges are not."
            ),
        )
        parser.add_argument(
            "--username",
            help=_(
                "A username, compared as logins count it (case-insensitively). "
                "With --ip, only the count of that username from that IP is cleared."
            ),
        )
        parser.add_argument(
            "--network",
            help=_(
                "A network locked out by network retries, such as "
                "198.51.100.0/24 or 2001:db8::/48: lifts its lockout and forgets "
                "its count (the counts of its addresses are kept)."
            ),
        )
        parser.add_argument(
            "--all",
            action="store_true",
            dest="everything",
            help=_("Unlock everyone and forget every count."),
        )

    def handle(self, *args, ip, username, everything: bool, network=None, **options):
        if everything and (ip is not None or username is not None):
            raise CommandError(_("--all cannot be combined with --ip or --username."))
        if network is not None and (everything or ip is not None or username):
            raise CommandError(
                _("--network cannot be combined with --ip, --username or --all.")
            )
        if not everything and ip is None and username is None and network is None:
            raise CommandError(
                _("Say what to unlock: --ip, --username, --network or --all.")
            )
        if ip is not None:
            try:
                group = unlocking.normalize_ip_group(ip)
            except ValueError as error:
                raise CommandError(
                    _(
                        "%(error)s Give one address (or, for IPv6, the network a "
                        "client is counted under); to unlock everyone use --all."
                    )
                    % {"error": printable(str(error))}
                ) from None
            if group != ip.strip():
                self.stdout.write(
                    _("%(ip)s is counted as %(group)s.")
                    % {"ip": printable(ip.strip()), "group": group}
                )
        if username is not None and not username.strip():
            raise CommandError(_("--username must not be empty."))

        try:
            result = unlocking.unlock(
                ip=ip,
                username=username,
                everything=everything,
                network=network,
                by=None,
                reason=Lockout.LIFTED_COMMAND,
            )
        except ValueError as error:
            raise CommandError(printable(str(error))) from None

        lockouts = len(result.lockouts)
        counts = len(result.forgotten)
        if not lockouts and not counts:
            self.stdout.write(
                _("Nothing to unlock: no active lockout or failed-login count matched.")
            )
            return
        lifted = ngettext(
            "Lifted %(count)d lockout.", "Lifted %(count)d lockouts.", lockouts
        ) % {"count": lockouts}
        forgot = ngettext(
            "Forgot %(count)d failed-login count.",
            "Forgot %(count)d failed-login counts.",
            counts,
        ) % {"count": counts}
        self.stdout.write(self.style.SUCCESS(f"{lifted} {forgot}"))
