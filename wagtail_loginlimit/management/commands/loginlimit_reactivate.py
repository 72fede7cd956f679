"""`manage.py loginlimit_reactivate USERNAME [--force]`: make an account the
plugin deactivated active again (with --force, any inactive account)."""

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from wagtail_loginlimit import accounts, users
from wagtail_loginlimit.models import Deactivation
from wagtail_loginlimit.security_log import printable


def _shown(text: str) -> str:
    """Typed text, safe to echo to a terminal (control characters escaped)."""
    return printable(text[:150])


class Command(BaseCommand):
    @property
    def help(self) -> str:  # a property: argparse needs a str, in the active language
        return _(
            "Reactivate an account deactivated by login limits: make it active "
            "again, start its failed-login count afresh and lift its lockouts. "
            "Written to the audit log as done from the command line."
        )

    def add_arguments(self, parser):
        parser.add_argument(
            "username",
            help=_(
                "The account's username (or whatever field your user model "
                "logs in with), exactly as stored."
            ),
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help=_(
                "Also make the account active if it was made inactive by "
                "something other than login limits (e.g. an administrator)."
            ),
        )

    def handle(self, *args, username: str, force: bool = False, **options):
        user = users.find_user(username)
        if user is None:
            raise CommandError(
                _("There is no account with the username “%(username)s”.")
                % {"username": _shown(username)}
            )
        done = accounts.reactivate(
            user, reason=Deactivation.REACTIVATED_COMMAND, only_deactivated=not force
        )
        if not done and user.is_active:
            raise CommandError(
                _("The account “%(username)s” is already active.")
                % {"username": _shown(user.get_username())}
            )
        if not done:
            raise CommandError(
                _(
                    "“%(username)s” was not deactivated by login limits; use "
                    "--force to make it active anyway."
                )
                % {"username": _shown(user.get_username())}
            )
        self.stdout.write(
            self.style.SUCCESS(
                _("Reactivated the account “%(username)s”.")
                % {"username": _shown(user.get_username())}
            )
        )
