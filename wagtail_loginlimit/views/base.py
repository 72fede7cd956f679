"""What every login-security screen shares: the permission, the filter-error
handling, safe spreadsheet export, the results template, and the bulk-action
base that acts on exactly what the listing shows."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.contrib.humanize.templatetags.humanize import intcomma
from django.db.models import Model, QuerySet
from django.urls import reverse_lazy
from django.utils import formats, timezone, translation
from django.utils.encoding import force_str
from django.utils.functional import cached_property
from django.utils.translation import gettext, ngettext_lazy
from django.utils.translation import gettext_lazy as _
from wagtail.admin.paginator import WagtailPaginator
from wagtail.admin.views.bulk_action import BulkAction
from wagtail.admin.views.reports import ReportView

from .. import attack, permissions

# Characters that make a spreadsheet treat a cell as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# Values a spreadsheet reads as data, never as a formula.
_PLAIN_VALUES = (bool, int, float, Decimal, datetime.date, datetime.time)


def csv_safe(value: Any) -> Any:
    """Usernames and user agents are typed by attackers: a value that a
    spreadsheet would run as a formula is exported as text instead."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def csv_cell(value: Any) -> Any:
    """Any exported value that is not a number, date or boolean becomes safe
    text: a related object (a user) is as attacker-named as a string."""
    if value is None or isinstance(value, _PLAIN_VALUES):
        return value
    return csv_safe(force_str(value))


def local_isoformat(value: datetime.datetime) -> str:
    """A date and time in the admin's time zone, as the listings show it, to
    the second (a spreadsheet has no use for microseconds)."""
    return (timezone.localtime(value) if timezone.is_aware(value) else value).isoformat(
        timespec="seconds"
    )


def local_naive(value: datetime.datetime) -> datetime.datetime:
    """A date and time for an XLSX cell (which holds no zone): the admin's
    local time, to the second."""
    if timezone.is_aware(value):
        value = timezone.make_naive(value)
    return value.replace(microsecond=0)


def yes_no(value: bool) -> str:
    """A yes/no cell in the admin's language, not Python's True/False."""
    return gettext("Yes") if value else gettext("No")


def count_text(count: int) -> str:
    """A count as the admin's locale writes it (5,000 or 5.000)."""
    return formats.number_format(count, force_grouping=True)


class LoginSecurityPaginator(WagtailPaginator):
    """Says "8 failed logins", not the model's name ("8 access failures"),
    with a plural form per language and a thousands separator."""

    count_label = None  # an ngettext_lazy(…, "count") set by the view

    @cached_property
    def items_count_label(self) -> str:
        if self.count_label is None:
            return super().items_count_label
        return self.count_label % {"count": self.count, "number": intcomma(self.count)}


# The "Login security" crumb of every screen, between Home and the screen.
LOGIN_SECURITY_CRUMB = {
    "url": reverse_lazy("wagtail_loginlimit:index"),
    "label": _("Login security"),
}


def clean_ids(values: list[str]) -> list[int]:
    """The numeric ids of a query string; anything else is ignored."""
    return [int(value) for value in values if value.isdigit()]


class LoginSecurityReportView(ReportView):
    """A report only users with "Can manage login limits" may see (a 403 page
    for others, where Wagtail's own permission check would redirect to the
    dashboard). An invalid filter (a malformed IP range) lists nothing and
    says why, rather than silently listing everything."""

    template_name = "wagtail_loginlimit/reports/report.html"
    results_template_name = "wagtail_loginlimit/reports/results.html"
    is_searchable = True
    paginate_by = 50
    export_filename = "login-security"
    # "%(number)s failed logins" under the table; each view sets its own.
    count_label = ngettext_lazy("%(number)s item", "%(number)s items", "count")
    breadcrumbs_items = [*ReportView.breadcrumbs_items, LOGIN_SECURITY_CRUMB]

    paginator_class = LoginSecurityPaginator

    def get_paginator(self, *args, **kwargs):
        paginator = super().get_paginator(*args, **kwargs)
        paginator.count_label = self.count_label
        return paginator

    def no_results_note(self) -> str:
        """A sentence under "No … found" that says why the list may be
        empty; none by default."""
        return ""

    def dispatch(self, request, *args, **kwargs):
        if not permissions.user_can_manage(request.user):
            return permissions.forbidden(request)
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def custom_value_preprocess(self):
        preprocess = dict(ReportView.custom_value_preprocess)
        preprocess[datetime.datetime] = {
            **preprocess.get(datetime.datetime, {}),
            self.FORMAT_CSV: local_isoformat,
            self.FORMAT_XLSX: local_naive,
        }
        preprocess[bool] = {self.FORMAT_CSV: yes_no, self.FORMAT_XLSX: yes_no}
        return preprocess

    def preprocess_field_value(self, field: str, value: Any, export_format: str):
        value = super().preprocess_field_value(field, value, export_format)
        if export_format == self.FORMAT_CSV:
            return csv_cell(value)
        return value

    def stream_csv(self, queryset):
        # The CSV is streamed after the view returns, when Wagtail has switched
        # back from the user's admin language and time zone: keep them.
        language = translation.get_language()
        zone = timezone.get_current_timezone()
        rows = super().stream_csv(queryset)

        def localized():
            with translation.override(language), timezone.override(zone):
                yield from rows

        return localized()

    def get_filename(self) -> str:
        return f"{self.export_filename}-{timezone.localdate():%Y-%m-%d}"

    def get_filtered_queryset(self) -> QuerySet:
        # BaseListingView.get_queryset() already filters; ReportView would
        # filter a second time.
        return self.get_queryset()

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        if self.filters and not self.filters.is_valid():
            return queryset.none()
        return super().filter_queryset(queryset)

    def get_context_data(self, *args, **kwargs):
        context = super().get_context_data(*args, **kwargs)
        context["filter_errors"] = self.filter_errors
        context["table_label"] = self.get_page_title()
        context["no_results_note"] = self.no_results_note()
        context["attack"] = attack.current_banner(self.request)
        return context

    @cached_property
    def filter_errors(self) -> list[tuple[str, str]]:
        """(field label, message) for each filter value that was refused."""
        if not self.filters or self.filters.is_valid():
            return []
        form = self.filters.form
        return [
            (str(form.fields[name].label) if name in form.fields else "", message)
            for name, messages in form.errors.items()
            for message in messages
        ]


class LoginSecurityBulkAction(BulkAction):
    """A bulk action on one of the reports. "Select all in listing" sends the
    listing's query string with `id=all`: the objects are then those the
    listing view itself shows, with its filters and search applied."""

    listing_view_class: type[LoginSecurityReportView]
    related_fields: tuple[str, ...] = ()
    action_priority = 10
    # The confirmation names this many of the chosen items and counts the
    # rest: "Select all" after an attack may choose thousands.
    sample_size = 20

    def dispatch(self, request, *args, **kwargs):
        if not permissions.user_can_manage(request.user):
            return permissions.forbidden(request)
        return super().dispatch(request, *args, **kwargs)

    @classmethod
    def get_queryset(cls, model: type[Model], object_ids) -> list[Model]:
        if isinstance(object_ids, list):
            object_ids = clean_ids(object_ids)
        # Otherwise "all": a queryset of the listing's pks.
        queryset = model.objects.filter(pk__in=object_ids)
        if cls.related_fields:  # select_related() alone is deprecated in 6.1
            queryset = queryset.select_related(*cls.related_fields)
        return list(queryset)

    def get_all_objects_in_listing_query(self, parent_id) -> QuerySet:
        view = self.listing_view_class()
        view.setup(self.request)
        return view.get_queryset().order_by().values_list("pk", flat=True)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        items = context["items"]
        refused = context.get("items_with_no_access", [])
        # "Unlock 3 lockouts"; plain "Unlock" when nothing can be done.
        title = self.get_title(len(items)) if items else str(self.display_name)
        context.update(
            title=title,
            count=len(items),
            count_text=count_text(len(items)),
            sample=items[: self.sample_size],
            more_count=max(0, len(items) - self.sample_size),
            more=count_text(max(0, len(items) - self.sample_size)),
            refused_sample=refused[: self.sample_size],
            refused_more_count=max(0, len(refused) - self.sample_size),
            refused_more=count_text(max(0, len(refused) - self.sample_size)),
            breadcrumbs_items=[
                *ReportView.breadcrumbs_items,
                LOGIN_SECURITY_CRUMB,
                {
                    "url": self.next_url,
                    "label": self.listing_view_class.page_title,
                },
                {"url": "", "label": title},
            ],
        )
        return context

    def get_title(self, count: int) -> str:
        """The page's title for `count` chosen items ("Unlock 3 lockouts")."""
        return str(self.display_name)

    def get_execution_context(self) -> dict[str, Any]:
        return {"by": self.request.user, "request": self.request}
