"""`manage.py loginlimit_purge [--days N] [--dry-run]`: retention of old login
records (run it daily from cron or a scheduler)."""

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
                "Keep this many days (at least 1; default: WAGTAIL_LOGINLIMIT "
                "retention_days, 90 unless set)."
            ),
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=_("Only count what would be deleted."),
        )

    def handle(
        self, *args, days: int | None, dry_run: bool, verbosity: int = 1, **options
    ):
        config = get_config()
        if days is None:
            days = config.retention_days
        if days < 1:
            raise CommandError(
                _("--days must be at least 1, not %(days)d.") % {"days": days}
            )
        result = retention.purge(days, dry_run=dry_run)
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
