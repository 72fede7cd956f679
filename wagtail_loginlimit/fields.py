"""Model and form fields for the settings panel: durations typed in readable units,
and IP/username lists one entry per line."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from . import validation

UNITS = (
    (86400, _("days")),
    (3600, _("hours")),
    (60, _("minutes")),
    (1, _("seconds")),
)


def split_seconds(seconds: int | None) -> tuple[int | None, int]:
    """The largest unit that divides `seconds` evenly: 1200 → (20, 60)."""
    if not seconds:
        return seconds, 60
    for unit, _label in UNITS:
        if seconds % unit == 0:
            return seconds // unit, unit
    return seconds, 1


class DurationWidget(forms.MultiWidget):
    template_name = "wagtail_loginlimit/widgets/duration.html"

    def __init__(self, attrs=None):
        widgets = (
            forms.NumberInput(attrs={"min": 1, "step": 1}),
            forms.Select(choices=UNITS),
        )
        super().__init__(widgets, attrs)

    def decompress(self, value):
        if value in (None, ""):
            return [None, 60]
        return list(split_seconds(int(value)))


class DurationFormField(forms.MultiValueField):
    """A number and a unit (seconds, minutes, hours, days), stored as seconds."""

    widget = DurationWidget

    def __init__(self, **kwargs):
        for key in ("max_length", "min_value", "max_value", "step_size"):
            kwargs.pop(key, None)
        fields = (
            forms.IntegerField(min_value=1),
            forms.TypedChoiceField(choices=UNITS, coerce=int),
        )
        super().__init__(fields=fields, require_all_fields=True, **kwargs)

    def compress(self, data_list):
        if not data_list or data_list[0] in (None, ""):
            return None
        seconds = int(data_list[0]) * int(data_list[1])
        if seconds > validation.MAX_DURATION_SECONDS:
            # Far beyond any sensible lockout, and `now + duration` would
            # overflow `datetime` at the next login.
            raise validation.too_long()
        return seconds

    def has_changed(self, initial, data):
        try:
            return self.compress(self.clean(data)) != int(initial or 0)
        except (ValidationError, TypeError, ValueError):
            return True


class DurationSecondsField(models.PositiveIntegerField):
    """A duration in whole seconds, edited in readable units."""

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": DurationFormField, **kwargs})


class AccessListFormField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 4})

    def __init__(self, *, allow_usernames: bool, **kwargs):
        self.allow_usernames = allow_usernames
        kwargs.pop("max_length", None)
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        parsed = validation.parse_access_list(
            value, allow_usernames=self.allow_usernames
        )
        # Store one entry per line whatever separators were typed.
        return "\n".join(parsed.lines)


class AccessListField(models.TextField):
    """IPs, CIDR ranges (and usernames, for whitelists), one entry per line."""

    def __init__(self, *args, allow_usernames: bool = True, **kwargs):
        self.allow_usernames = allow_usernames
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if not self.allow_usernames:
            kwargs["allow_usernames"] = False
        return name, path, args, kwargs

    def formfield(self, **kwargs):
        return super().formfield(
            **{
                "form_class": AccessListFormField,
                "allow_usernames": self.allow_usernames,
                **kwargs,
            }
        )

    def validate(self, value, model_instance):
        super().validate(value, model_instance)
        validation.parse_access_list(value, allow_usernames=self.allow_usernames)


class UsernameListFormField(forms.CharField):
    widget = forms.Textarea(attrs={"rows": 4})

    def __init__(self, **kwargs):
        kwargs.pop("max_length", None)
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        return "\n".join(validation.parse_username_list(value).lines)


class UsernameListField(models.TextField):
    """Usernames, one entry per line (`deny_usernames`)."""

    def formfield(self, **kwargs):
        return super().formfield(**{"form_class": UsernameListFormField, **kwargs})
