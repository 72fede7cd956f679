"""The settings panel's form: values fixed in code are shown read-only, with a
note saying where they are set."""

from __future__ import annotations

from datetime import timedelta

from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm

from .code_settings import SETTING_NAME, code_settings
from .validation import AccessList


def form_value(value):
    """A `Config` value as the settings form field holds it."""
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    if isinstance(value, AccessList):
        return "\n".join(value.lines)
    if isinstance(value, tuple):
        return ",".join(value)
    return value


class LoginLimitSettingsForm(WagtailAdminModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        code = code_settings()
        if code.turned_off:
            note = _(
                "The plugin is turned off by %(setting)s = False in the Django settings."
            )
        else:
            note = _("Set by %(setting)s in the Django settings; change it there.")
        note = note % {"setting": SETTING_NAME}
        self.fixed_in_code = code.fixed_keys
        # What the database holds is kept: code may stop fixing a value later.
        self._stored = {name: self.initial.get(name) for name in self.fixed_in_code}
        for name in code.fixed_keys:
            field = self.fields.get(name)
            if field is None:
                continue
            field.disabled = True
            if name in code.values:
                self.initial[name] = form_value(code.values[name])
            field.help_text = (
                _("%(help)s %(note)s") % {"help": field.help_text, "note": note}
                if field.help_text
                else note
            )

    def clean(self):
        cleaned_data = super().clean()
        for name, value in self._stored.items():
            if name in self.fields:
                cleaned_data[name] = value
        return cleaned_data
