"""`manage.py loginlimit_list [--all] [--format table|json]`: the lockouts."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand
from django.utils import timezone
from django.utils.translation import gettext as _

from wagtail_loginlimit.models import Lockout
from wagtail_loginlimit.security_log import printable

FORMAT_TABLE = "table"
FORMAT_JSON = "json"


def _time(value) -> str | None:
    return timezone.localtime(value).isoformat(timespec="seconds") if value else None


def as_dict(lockout: Lockout, now) -> dict[str, Any]:
    """One lockout as JSON-ready data (times in ISO 8601 with their offset)."""
    lifted_by = lockout.lifted_by
    return {
        "id": lockout.pk,
        "who": lockout.who,
        "scope": lockout.scope,
        "ip": lockout.ip_address,
        "ip_group": lockout.ip_group,
        "username": lockout.username,
        "started": _time(lockout.started_at),
        "ends": _time(lockout.ends_at),
        "long": lockout.is_long,
        "failures": lockout.failure_count,
        "number": lockout.number,
        "active": lockout.lifted_at is None and lockout.ends_at > now,
        "lifted": _time(lockout.lifted_at),
        "lifted_by": lifted_by.get_username() if lifted_by else None,
        "lift_reason": lockout.lift_reason or None,
    }


def table(rows: list[list[str]]) -> str:
    """Columns padded to their widest cell."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(
            cell.ljust(width) for cell, width in zip(row, widths, strict=True)
        ).rstrip()
        for row in rows
    )


class Command(BaseCommand):
    @property
    def help(self) -> str:  # a property: argparse needs a str, in the active language
        return _(
            "List the active lockouts (or, with --all, every lockout on record), "
            "newest first."
        )

    def add_arguments(self, parser):
        parser.add_argument(
            "--all",
            action="store_true",
            dest="show_all",
            help=_("Also list ended and lifted lockouts (the history)."),
        )
        parser.add_argument(
            "--format",
            dest="output_format",
            choices=[FORMAT_TABLE, FORMAT_JSON],
            default=FORMAT_TABLE,
            help=_("Output format (default: %(default)s)."),
        )

    def handle(self, *args, show_all: bool, output_format: str, **options):
        now = timezone.now()
        lockouts = Lockout.objects.select_related("lifted_by").order_by(
            "-started_at", "-pk"
        )
        if not show_all:
            lockouts = lockouts.active(now)
        data = [as_dict(lockout, now) for lockout in lockouts]

        if output_format == FORMAT_JSON:
            self.stdout.write(json.dumps(data, indent=2, ensure_ascii=True))
            return
        if not data:
            self.stdout.write(
                _("No lockouts on record.") if show_all else _("No active lockouts.")
            )
            return
        header = [
            _("WHO"),
            _("SCOPE"),
            _("IP"),
            _("USERNAME"),
            _("STARTED"),
            _("ENDS"),
            _("LONG"),
            _("LIFTED"),
        ]
        rows = [[str(cell) for cell in header]]
        for item in data:
            lifted = item["lifted"] or ""
            if lifted and item["lift_reason"]:
                lifted = f"{lifted} ({item['lift_reason']})"
            rows.append(
                [
                    printable(item["who"]),
                    item["scope"],
                    item["ip"] or "-",
                    printable(item["username"]) or "-",
                    item["started"],
                    item["ends"],
                    _("yes") if item["long"] else _("no"),
                    lifted or "-",
                ]
            )
        self.stdout.write(table(rows))
