"""`manage.py loginlimit_purge [--days N] [--dry-run] [--audit-log]`: retention
of old login records (run it daily from cron or a scheduler)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from wagtail_loginlimit import retention
from wagtail_loginlimit.conf import get_config


class Command(BaseCommand):
    @property
    def help(self) -> str:  # a property: argparse needs a str, in the active language
        return _(
            "Delete login records older than the retention period: axes' attempts, "
            "access and failure logs, ended lockouts and counters no longer counted. "
            "Active lockouts and counts still within the valid window are kept."
        )

    def add_arguments(self, parser):
        parser.add_argument(
            "--days",
            type=int,
            help=_(
                "Keep this many days (1 to 36500; default: WAGTAIL_LOGINLIMIT "
                "retention_days, 90 unless set)."
            ),
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=_("Only count what would be deleted."),
        )
        parser.add_argument(
            "--audit-log",
            action="store_true",
            dest="audit_log",
            help=_(
                "Also delete the plugin's lockout and unlock entries older than "
                "the cutoff from Wagtail's audit log (kept by default)."
            ),
        )

    def handle(
        self,
        *args,
        days: int | None,
        dry_run: bool,
        audit_log: bool = False,
        verbosity: int = 1,
        **options,
    ):
        if days is None:
            days = get_config().retention_days
        try:
            retention.check_days(days)
        except ValueError as error:
            raise CommandError(f"--days: {error}") from None
        result = retention.purge(days, dry_run=dry_run, audit_log_entries=audit_log)
        if verbosity < 1:
            return
        cutoff = timezone.localtime(result.cutoff).isoformat(timespec="seconds")
        if result.widened:
            self.stdout.write(
                _(
                    "The valid window is longer than the retention period: records "
                    "newer than %(cutoff)s may still count and are kept."
                )
                % {"cutoff": cutoff}
            )
        for label, count in result.counts.items():
            self.stdout.write(f"{label}: {count}")
        if dry_run:
            message = ngettext(
                "Dry run: %(count)d record older than %(cutoff)s would be deleted.",
                "Dry run: %(count)d records older than %(cutoff)s would be deleted.",
                result.total,
            )
        else:
            message = ngettext(
                "Deleted %(count)d record older than %(cutoff)s.",
                "Deleted %(count)d records older than %(cutoff)s.",
                result.total,
            )
        self.stdout.write(
            self.style.SUCCESS(message % {"count": result.total, "cutoff": cutoff})
        )
