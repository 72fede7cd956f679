"""The settings panel's form: values fixed in code are shown read-only, with a
note saying where they are set."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django import forms
from django.utils import formats
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import Panel

from . import budget, defaults, policy, waiting
from .clients import (
    METHOD_IP,
    METHOD_IP_AND_USERNAME,
    METHOD_IP_OR_USERNAME,
    METHOD_USERNAME,
)
from .code_settings import SETTING_NAME, code_settings, code_value, parse_value
from .validation import AccessList

# The lockout methods as the settings panel names them.
METHOD_LABELS = {
    METHOD_IP: _("IP address"),
    METHOD_USERNAME: _("Username"),
    METHOD_IP_AND_USERNAME: _("IP address and username together"),
    METHOD_IP_OR_USERNAME: _("IP address or username, each on its own"),
}


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
        name_duration_parts(self)
        for name, text in help_texts(current_values(self.instance)).items():
            if name in self.fields:
                self.fields[name].help_text = _("%(help)s %(example)s") % {
                    "help": self.fields[name].help_text,
                    "example": text,
                }
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


def name_duration_parts(form) -> None:
    """A duration is a number and a unit, two controls under one label that
    can point at neither (Django gives a MultiWidget no `id_for_label`):
    each gets a name of its own, "Lockout duration: number" / "…: unit"."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.MultiWidget) and len(widget.widgets) == 2:
            label = capfirst(field.label)
            number, unit = widget.widgets
            number.attrs["aria-label"] = _("%(label)s: number") % {"label": label}
            unit.attrs["aria-label"] = _("%(label)s: unit") % {"label": label}


# --- what the current values mean, in the panel's own words -----------------


def current_values(instance) -> dict[str, Any]:
    """The limits in force for the panel's saved setting: what it stores,
    with what `WAGTAIL_LOGINLIMIT` fixes in code on top."""
    values = {key: parse_value(key, value) for key, value in defaults.PANEL.items()}
    if instance is not None and instance.pk:
        values.update(instance.as_values())
    values.update(
        {k: v for k, v in code_settings().values.items() if k in defaults.PANEL}
    )
    return values


def _count(number: int) -> str:
    return formats.number_format(number, force_grouping=True)


def per_day(values: dict[str, Any]) -> int:
    """`budget.tries_per_day` of `values`."""
    return budget.tries_per_day(
        allowed_retries=values["allowed_retries"],
        lockout_duration=values["lockout_duration"],
        allowed_lockouts=values["allowed_lockouts"],
        long_duration=values["long_duration"],
        valid_duration=values["valid_duration"],
    )


def budget_sentences(values: dict[str, Any], method: str | None = None) -> list[str]:
    """What one IP address and one account can try under `values` (with
    `method` instead of the stored lockout method, if given)."""
    method = method or values["lockout_method"]
    day = per_day(values)
    deactivation = budget.tries_before_deactivation(
        allowed_retries=values["allowed_retries"],
        deactivate_after=values["deactivate_after"],
    )
    counts_ip = method in (METHOD_IP, METHOD_IP_OR_USERNAME)
    counts_account = method in (METHOD_USERNAME, METHOD_IP_OR_USERNAME)
    if counts_ip:
        ip = ngettext(
            "With these settings one IP address can try at most %(number)s "
            "password a day.",
            "With these settings one IP address can try at most %(number)s "
            "passwords a day.",
            day,
        )
    else:
        ip = ngettext(
            "With these settings one IP address can try at most %(number)s "
            "password a day on each account, on as many accounts as it likes.",
            "With these settings one IP address can try at most %(number)s "
            "passwords a day on each account, on as many accounts as it likes.",
            day,
        )
    sentences = [ip % {"number": _count(day)}]
    if deactivation and (not counts_account or deactivation <= day):
        account = ngettext(
            "One account can be tried at most %(number)s time from unknown "
            "devices before it is deactivated.",
            "One account can be tried at most %(number)s times from unknown "
            "devices before it is deactivated.",
            deactivation,
        ) % {"number": _count(deactivation)}
    elif counts_account:
        account = ngettext(
            "One account can be tried at most %(number)s time a day from "
            "unknown devices.",
            "One account can be tried at most %(number)s times a day from "
            "unknown devices.",
            day,
        ) % {"number": _count(day)}
    else:
        account = _(
            "One account can be tried that often from every IP address: lock "
            "out by username as well, or deactivate accounts, to limit it."
        )
    sentences.append(account)
    return sentences


def help_texts(values: dict[str, Any]) -> dict[str, str]:
    """Help texts that give examples, with the current numbers in them."""
    retries, lockouts = values["allowed_retries"], values["allowed_lockouts"]
    if lockouts == 1:
        round_text = ngettext(
            "Now every lockout is a long one, after %(failures)s failed login.",
            "Now every lockout is a long one, after %(failures)s failed logins.",
            retries,
        ) % {"failures": _count(retries)}
    else:
        round_text = ngettext(
            "Now lockout %(normal)s is a normal one and lockout %(long)s, after "
            "%(failures)s failed logins, is a long one.",
            "Now lockouts 1 to %(normal)s are normal ones and lockout %(long)s, "
            "after %(failures)s failed logins, is a long one.",
            lockouts - 1,
        ) % {
            "normal": _count(lockouts - 1),
            "long": _count(lockouts),
            "failures": _count(retries * lockouts),
        }
    deactivate = ngettext(
        "With the current %(retries)s allowed retry, 2 means after %(failures)s "
        "failed logins.",
        "With the current %(retries)s allowed retries, 2 means after "
        "%(failures)s failed logins.",
        retries,
    ) % {"retries": _count(retries), "failures": _count(2 * retries)}
    deactivate = _("%(example)s %(risk)s") % {
        "example": deactivate,
        "risk": deactivation_risk(values),
    }
    return {
        "allowed_lockouts": round_text,
        "deactivate_after": deactivate,
        "progressive_delay": delay_example(values),
    }


def delay_example(values: dict[str, Any]) -> str:
    """The waits the progressive delay imposes with the code's base and cap
    (`progressive_delay_base`, `progressive_delay_max`) and these values."""
    limits = policy.Limits(
        allowed_retries=values["allowed_retries"],
        progressive_delay=True,
        delay_base=code_value("progressive_delay_base"),
        delay_max=code_value("progressive_delay_max"),
    )
    waits = [
        waiting.duration_text(int(policy.delay_after(k, limits).total_seconds()))
        for k in (1, 2, 3)
    ]
    return _(
        "The waits are %(first)s after the first failure, %(second)s after the "
        "second, %(third)s after the third, and never more than %(longest)s."
    ) % {
        "first": waits[0],
        "second": waits[1],
        "third": waits[2],
        "longest": waiting.duration_text(int(limits.delay_max.total_seconds())),
    }


def deactivation_risk(values: dict[str, Any]) -> str:
    """What `deactivate_after` risks with `values`: failures from anywhere
    deactivate an account, so whoever knows a username can lock its owner
    out (all but the last active superuser)."""
    failures = budget.tries_before_deactivation(
        allowed_retries=values["allowed_retries"],
        deactivate_after=values["deactivate_after"],
    )
    if not failures:
        return str(
            _("Off with these values: failed logins never deactivate an account.")
        )
    return ngettext(
        "With these values, %(failures)s failed login against an account from "
        "anywhere deactivates it: anyone who knows a username can do that. "
        "The last active superuser is kept active and the admins are emailed "
        "instead.",
        "With these values, %(failures)s failed logins against an account from "
        "anywhere deactivate it: anyone who knows a username can do that. "
        "The last active superuser is kept active and the admins are emailed "
        "instead.",
        failures,
    ) % {"failures": _count(failures)}


class BudgetPanel(Panel):
    """Under the lockout settings: what an attacker can try with the limits
    in force, for the chosen lockout method and for each of the others."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "wagtail_loginlimit/panels/budget.html"

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            values = current_values(self.instance)
            context["sentences"] = budget_sentences(values)
            context["others"] = [
                (label, budget_sentences(values, method))
                for method, label in METHOD_LABELS.items()
                if method != values["lockout_method"]
            ]
            return context
