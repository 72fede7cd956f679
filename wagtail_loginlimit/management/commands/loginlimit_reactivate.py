"""`manage.py loginlimit_reactivate USERNAME`: make an account active again."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from wagtail_loginlimit import accounts
from wagtail_loginlimit.models import Deactivation
from wagtail_loginlimit.security_log import printable


def _shown(text: str) -> str:
    """Typed text, safe to echo to a terminal (control characters escaped)."""
    return printable(text[:150])


class Command(BaseCommand):
    # Not lazy: argparse needs real strings.
    help = _(
        "Reactivate an account: make it active again, forget its failed logins "
        "and lift its lockouts. Written to the audit log as done from the "
        "command line."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "username",
            help=_(
                "The account's username (or whatever field your user model "
                "logs in with), exactly as stored."
            ),
        )

    def handle(self, *args, username: str, **options):
        user = accounts.find_user(username)
        if user is None:
            raise CommandError(
                _("There is no account with the username “%(username)s”.")
                % {"username": _shown(username)}
            )
        if not accounts.reactivate(user, reason=Deactivation.REACTIVATED_COMMAND):
            raise CommandError(
                _("The account “%(username)s” is already active.")
                % {"username": _shown(user.get_username())}
            )
        self.stdout.write(
            self.style.SUCCESS(
                _("Reactivated the account “%(username)s”.")
                % {"username": _shown(user.get_username())}
            )
        )
