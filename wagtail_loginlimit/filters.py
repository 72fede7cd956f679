"""Filters of the login-security reports: IP or CIDR range, username, dates,
short/long, how a lockout was lifted.

The IP range filter runs in SQL. On PostgreSQL, where an IP address column
is `inet`, a range is one containment test (`<<=`). Elsewhere an IPv4 range
becomes a handful of `startswith` prefixes on the stored dotted address
(exact, since a prefix ends with a dot). Compressed IPv6 text has no such
prefixes, so an IPv6 range is narrowed in SQL first (IPv6 rows only, the
first hextet, the client's /64 group when the range lies inside one) and the
remaining distinct addresses, at most `MAX_IPV6_CANDIDATES`, are checked
with `ipaddress`; a wider match asks the admin to narrow the range.
"""

from __future__ import annotations

import ipaddress
from typing import Any

import django_filters
from axes.models import AccessFailureLog
from django import forms
from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import F, Lookup, Q, QuerySet, Value
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet

from .conf import get_config
from .models import SCOPE_CHOICES, Deactivation, Lockout

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Distinct IPv6 addresses checked in Python for one range (off PostgreSQL);
# the matches go into one `IN (...)`, which databases cap (SQLite at 32766
# bind parameters) and which gets slow long before that.
MAX_IPV6_CANDIDATES = 5000


class RangeTooWide(ValueError):
    """An IPv6 range matches more distinct addresses than can be listed."""


class InetContainedBy(Lookup):
    """`address <<= 'range'::inet`: PostgreSQL's own test that an `inet`
    column (Django's GenericIPAddressField there) lies in a CIDR range."""

    lookup_name = "loginlimit_inet_contained_by"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} <<= ({rhs})::inet", (*lhs_params, *rhs_params)


def parse_network(value: str) -> Network:
    """An IP address or CIDR range typed by an admin, as a network; host bits
    are allowed (203.0.113.7/24 means 203.0.113.0/24). IPv4-mapped IPv6
    input is treated as the IPv4 it wraps, as the login records store it."""
    text = value.strip()
    network = ipaddress.ip_network(text, strict=False)
    if (
        isinstance(network, ipaddress.IPv6Network)
        and network.prefixlen >= 96
        and network.network_address.ipv4_mapped is not None
    ):
        network = ipaddress.IPv4Network(
            (network.network_address.ipv4_mapped, network.prefixlen - 96)
        )
    return network


class IPNetworkField(forms.CharField):
    """A form field that cleans to an `ipaddress` network, or None."""

    default_error_messages = {
        "invalid": _(
            "Enter an IP address or a CIDR range, such as 203.0.113.0/24 or "
            "2001:db8::/32."
        ),
    }

    max_input_length = 100

    def widget_attrs(self, widget):
        return {**super().widget_attrs(widget), "maxlength": self.max_input_length}

    def to_python(self, value: Any) -> Network | None:
        text = super().to_python(value)
        if not text:
            return None
        if len(text) > self.max_input_length:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            return parse_network(text)
        except ValueError as error:
            raise forms.ValidationError(
                self.error_messages["invalid"], code="invalid"
            ) from error


def _ipv4_prefixes(network: ipaddress.IPv4Network) -> list[str]:
    """`startswith` texts that together match exactly the addresses of
    `network`: the network split into octet-aligned subnets."""
    aligned = -(-network.prefixlen // 8) * 8  # round up to a whole octet
    subnets = (
        [network]
        if aligned == network.prefixlen
        else network.subnets(new_prefix=aligned)
    )
    prefixes = []
    for subnet in subnets:
        octets = str(subnet.network_address).split(".")[: aligned // 8]
        prefixes.append(".".join(octets) + ("." if aligned < 32 else ""))
    return prefixes


def filter_by_network(
    queryset: QuerySet,
    network: Network,
    *,
    address_field: str = "ip_address",
    group_field: str | None = None,
    ipv6_prefix: int | None = None,
) -> QuerySet:
    """Rows of `queryset` whose IP address lies in `network`. Raises
    `RangeTooWide` off PostgreSQL when an IPv6 range matches more than
    `MAX_IPV6_CANDIDATES` distinct addresses."""
    if connections[queryset.db].vendor == "postgresql":
        return queryset.filter(
            InetContainedBy(F(address_field), Value(network.with_prefixlen))
        )
    if network.version == 4:
        if network.prefixlen == 0:
            return queryset.filter(**{f"{address_field}__contains": "."})
        if network.prefixlen == 32:
            return queryset.filter(**{address_field: str(network.network_address)})
        # At most 128 prefixes (a /1 or a /17 split into /8s or /24s).
        match = Q()
        for prefix in _ipv4_prefixes(network):
            match |= Q(**{f"{address_field}__startswith": prefix})
        return queryset.filter(match)
    if network.prefixlen == 128:
        return queryset.filter(**{address_field: network.network_address.compressed})

    # IPv6 ranges: narrow in SQL, then check the distinct addresses left.
    narrowed = queryset.filter(**{f"{address_field}__contains": ":"})
    first_hextet = int(network.network_address) >> 112
    if network.prefixlen >= 16 and first_hextet:
        narrowed = narrowed.filter(
            **{f"{address_field}__startswith": f"{first_hextet:x}:"}
        )
    if group_field:
        if ipv6_prefix is None:
            ipv6_prefix = get_config().ipv6_prefix
        if network.prefixlen >= ipv6_prefix:
            group = network.supernet(new_prefix=ipv6_prefix)
            groups = Q(**{group_field: str(group)}) | Q(**{group_field: ""})
            # A lockout by network (`network_retries`) holds its network.
            network_prefix = get_config().ipv6_network_prefix
            if network_prefix <= network.prefixlen:
                locked = network.supernet(new_prefix=network_prefix)
                groups |= Q(**{group_field: str(locked)})
            narrowed = narrowed.filter(groups)
    candidates = narrowed.order_by().values_list(address_field, flat=True).distinct()
    matches = []
    for address in candidates.iterator():
        if address and _in_network(address, network):
            matches.append(address)
            if len(matches) > MAX_IPV6_CANDIDATES:
                raise RangeTooWide(network)
    return queryset.filter(**{f"{address_field}__in": matches})


def _in_network(address: str, network: Network) -> bool:
    try:
        return ipaddress.ip_address(address) in network
    except ValueError:
        return False


class IPRangeFilter(django_filters.Filter):
    """Matches rows whose IP address is the given address or lies in the
    given CIDR range (IPv4 or IPv6)."""

    field_class = IPNetworkField

    def __init__(self, *args: Any, group_field: str | None = None, **kwargs: Any):
        self.group_field = group_field
        super().__init__(*args, **kwargs)

    def filter(self, qs: QuerySet, value: Network | None) -> QuerySet:
        if value is None:
            return qs
        return filter_by_network(
            qs, value, address_field=self.field_name, group_field=self.group_field
        )


class LoginSecurityFilterSet(WagtailFilterSet):
    """A report's filters: an IP range too wide to search becomes an error on
    its field (the report then lists nothing and says why)."""

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        try:
            return super().filter_queryset(queryset)
        except RangeTooWide:
            for name, filter_ in self.filters.items():
                if isinstance(filter_, IPRangeFilter) and self.form.cleaned_data.get(
                    name
                ):
                    self.form.add_error(
                        name,
                        _(
                            "This range holds too many addresses to search: "
                            "narrow it, for example to a /64."
                        ),
                    )
            return queryset.none()


NOT_LIFTED = "none"


def lift_reason_choices() -> list[tuple[str, Any]]:
    """Not lifted, or each way of lifting (`Lockout.LIFTED_*`)."""
    return [
        (NOT_LIFTED, _("Not lifted (ran out or still active)")),
        *Lockout.LIFT_REASON_CHOICES,
    ]


def _ip_filter() -> IPRangeFilter:
    return IPRangeFilter(
        label=_("IP address or range"),
        field_name="ip_address",
        group_field="ip_group",
        help_text=_("An address, or a CIDR range such as 203.0.113.0/24."),
    )


def _length_filter() -> django_filters.ChoiceFilter:
    return django_filters.ChoiceFilter(
        label=_("Length"),
        method="filter_length",
        choices=(("short", _("Normal lockouts")), ("long", _("Long lockouts"))),
        empty_label=_("All"),
        widget=forms.RadioSelect,
    )


class ActiveLockoutFilterSet(LoginSecurityFilterSet):
    ip = _ip_filter()
    username = django_filters.CharFilter(
        label=_("Username"), field_name="username", lookup_expr="icontains"
    )
    started_at = django_filters.DateFromToRangeFilter(
        label=_("Started"), widget=DateRangePickerWidget
    )
    length = _length_filter()
    scope = django_filters.ChoiceFilter(
        label=_("Locked by"),
        choices=SCOPE_CHOICES,
        empty_label=_("All"),
        widget=forms.RadioSelect,
    )

    class Meta:
        model = Lockout
        fields = ["ip", "username", "started_at", "length", "scope"]

    def filter_length(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value in ("short", "long"):
            return queryset.filter(is_long=value == "long")
        return queryset


class LockoutHistoryFilterSet(ActiveLockoutFilterSet):
    # One lockout, as a Site history entry links to it (`?lockout=<id>`);
    # shown among the active filters, where it can be removed.
    lockout = django_filters.ModelChoiceFilter(
        label=_("Lockout"),
        queryset=Lockout.objects.all(),
        method="filter_lockout",
        widget=forms.HiddenInput,
    )
    lifted = django_filters.ChoiceFilter(
        label=_("How it was lifted"),
        method="filter_lifted",
        choices=lift_reason_choices,
        empty_label=_("Any"),
        widget=forms.RadioSelect,
    )

    class Meta(ActiveLockoutFilterSet.Meta):
        fields = [*ActiveLockoutFilterSet.Meta.fields, "lifted", "lockout"]

    def filter_lockout(self, queryset: QuerySet, name: str, value) -> QuerySet:
        return queryset.filter(pk=value.pk) if value else queryset

    def filter_lifted(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value == NOT_LIFTED:
            return queryset.filter(lifted_at__isnull=True)
        if value:
            return queryset.filter(lift_reason=value)
        return queryset


class FailedLoginFilterSet(LoginSecurityFilterSet):
    ip = IPRangeFilter(
        label=_("IP address or range"),
        field_name="ip_address",
        help_text=_("An address, or a CIDR range such as 203.0.113.0/24."),
    )
    username = django_filters.CharFilter(
        label=_("Username"), field_name="username", lookup_expr="icontains"
    )
    attempt_time = django_filters.DateFromToRangeFilter(
        label=_("Date"), widget=DateRangePickerWidget
    )
    locked_out = django_filters.ChoiceFilter(
        label=_("Lockout"),
        method="filter_locked_out",
        choices=(
            ("yes", _("Caused a lockout")),
            ("no", _("Did not cause a lockout")),
        ),
        empty_label=_("All"),
        widget=forms.RadioSelect,
    )

    class Meta:
        model = AccessFailureLog
        fields = ["ip", "username", "attempt_time", "locked_out"]

    def filter_locked_out(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        if value in ("yes", "no"):
            return queryset.filter(locked_out=value == "yes")
        return queryset


class DeactivationFilterSet(LoginSecurityFilterSet):
    """The filters of the deactivated-accounts report."""

    username = django_filters.CharFilter(label=_("Username"), method="filter_username")
    deactivated_at = django_filters.DateFromToRangeFilter(
        label=_("Deactivated"), widget=DateRangePickerWidget
    )

    class Meta:
        model = Deactivation
        fields = ["username", "deactivated_at"]

    def filter_username(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        # The user model (and its username field) is only known at run time.
        if not value:
            return queryset
        field = get_user_model().USERNAME_FIELD
        return queryset.filter(**{f"user__{field}__icontains": value})
