"""What every login-security screen shares: the permission, the filter-error
handling, safe spreadsheet export, the results template, and the bulk-action
base that acts on exactly what the listing shows."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Model, QuerySet
from django.utils import timezone, translation
from django.utils.encoding import force_str
from django.utils.functional import cached_property
from wagtail.admin.views.bulk_action import BulkAction
from wagtail.admin.views.reports import ReportView

from .. import permissions

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
    """A date and time in the admin's time zone, as the listings show it."""
    return (
        timezone.localtime(value) if timezone.is_aware(value) else value
    ).isoformat()


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
        }
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

    def get_execution_context(self) -> dict[str, Any]:
        return {"by": self.request.user, "request": self.request}
