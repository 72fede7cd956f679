"""What every login-security report shares: the permission, the filter-error
handling, safe spreadsheet export and the results template."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.functional import cached_property
from wagtail.admin.views.reports import ReportView

from .. import permissions

# Characters that make a spreadsheet treat a cell as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> Any:
    """Usernames and user agents are typed by attackers: a value that a
    spreadsheet would run as a formula is exported as text instead."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


class LoginSecurityReportView(ReportView):
    """A report only users with "Can manage login limits" may see (403 for
    others). An invalid filter (a malformed IP range) lists nothing and says
    why, rather than silently listing everything."""

    template_name = "wagtail_loginlimit/reports/report.html"
    results_template_name = "wagtail_loginlimit/reports/results.html"
    permission_required = permissions.MANAGE
    is_searchable = True
    paginate_by = 50
    export_filename = "login-security"

    def dispatch(self, request, *args, **kwargs):
        if not permissions.user_can_manage(request.user):
            return permissions.forbidden(request)
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def permission_policy(self):
        return permissions.policy()

    @cached_property
    def custom_value_preprocess(self):
        preprocess = dict(ReportView.custom_value_preprocess)
        preprocess[str] = {self.FORMAT_CSV: csv_safe}
        return preprocess

    def stream_csv(self, queryset):
        # The CSV is streamed after the view returns, when Wagtail has switched
        # back from the user's admin language: keep the headings in it.
        language = translation.get_language()
        rows = super().stream_csv(queryset)

        def localized():
            with translation.override(language):
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
