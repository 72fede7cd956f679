"""`manage.py loginlimit_digest [--frequency daily|weekly] [--dry-run]`: email
the admins the digest of the last period that ended, once per period (safe to
run from cron every hour)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from wagtail_loginlimit import digest, notifications
from wagtail_loginlimit.conf import get_config


class Command(BaseCommand):
    @property
    def help(self) -> str:  # a property: argparse needs a str, in the active language
        return _(
            "Email the administrators the login digest of the last day or week that "
            "ended, as the digest setting says. Each period is sent once, however "
            "often this runs."
        )

    def add_arguments(self, parser):
        parser.add_argument(
            "--frequency",
            choices=digest.DIGEST_FREQUENCIES,
            help=_("daily or weekly, whatever the digest setting says."),
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=_("Print the digest instead of sending it; nothing is recorded."),
        )

    def handle(self, *args, frequency=None, dry_run=False, verbosity=1, **options):
        config = get_config()
        frequency = frequency or config.digest
        if not frequency:
            if verbosity >= 1:
                self.stdout.write(
                    _("The digest is off (digest setting empty); nothing to send.")
                )
            return
        if dry_run:
            period = digest.last_period(frequency)
            message = digest.build_digest_email(
                period, notifications.recipients(config)
            )
            self.stdout.write(_("To: %(to)s") % {"to": ", ".join(message.to) or "-"})
            self.stdout.write(_("Subject: %(subject)s") % {"subject": message.subject})
            self.stdout.write("")
            self.stdout.write(message.body)
            return
        result = digest.send_due_digest(frequency, config=config)
        period = {
            "period": timezone.localtime(result.period.start).date().isoformat(),
            "frequency": frequency,
        }
        if result.status == digest.NOT_SENT:
            raise CommandError(
                _(
                    "The %(frequency)s digest of %(period)s could not be sent (see "
                    "the log); the next run tries again."
                )
                % period
            )
        if verbosity < 1:
            return
        if result.status == digest.SENT:
            self.stdout.write(
                _("Sent the %(frequency)s digest of %(period)s to %(to)s.")
                % {**period, "to": ", ".join(result.recipients)}
            )
        else:
            self.stdout.write(
                _("The %(frequency)s digest of %(period)s was sent already.") % period
            )
