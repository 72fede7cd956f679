"""`manage.py loginlimit_forget_devices USERNAME… | --all`: forget the known
devices of accounts, so that each browser is a stranger until it next signs
in (after a lost laptop, say)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from wagtail_loginlimit import known_devices, users
from wagtail_loginlimit.models import KnownDevice
from wagtail_loginlimit.security_log import printable


class Command(BaseCommand):
    @property
    def help(self) -> str:  # a property: argparse needs a str, in the active language
        return _(
            "Forget the known devices of accounts: their browsers are treated "
            "like any other until they sign in again. Written to the audit log."
        )

    def add_arguments(self, parser):
        parser.add_argument(
            "usernames",
            nargs="*",
            metavar="USERNAME",
            help=_("The accounts' usernames, exactly as stored."),
        )
        parser.add_argument(
            "--all",
            action="store_true",
            help=_("Forget the known devices of every account."),
        )

    def handle(self, *args, usernames: list[str], all: bool = False, **options):
        if all == bool(usernames):
            raise CommandError(_("Name one or more usernames, or --all."))
        if all:
            ids = KnownDevice.objects.values_list("user_id", flat=True).distinct()
            accounts = list(get_user_model()._default_manager.filter(pk__in=ids))
        else:
            accounts = []
            for username in usernames:
                user = users.find_user(username)
                if user is None:
                    raise CommandError(
                        _("There is no account with the username “%(username)s”.")
                        % {"username": printable(username[:150])}
                    )
                accounts.append(user)
        for user in accounts:
            count = known_devices.forget(user)
            self.stdout.write(
                ngettext(
                    "Forgot %(count)s known device of “%(username)s”.",
                    "Forgot %(count)s known devices of “%(username)s”.",
                    count,
                )
                % {"count": count, "username": printable(user.get_username())}
            )
