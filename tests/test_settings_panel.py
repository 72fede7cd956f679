"""Settings → Login limits through the real Wagtail admin: every key in its panel,
durations in readable units, clear errors for bad input (never a 500, never a
bad value saved), and values fixed in `WAGTAIL_LOGINLIMIT` shown read-only."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from tests.conftest import START
from tests.helpers import fail
from wagtail_loginlimit import defaults, events, validation
from wagtail_loginlimit.models import Lockout, LoginLimitSettings

A = "203.0.113.7"
SETTINGS = reverse(
    "wagtailsettings:edit", args=["wagtail_loginlimit", "loginlimitsettings"]
)
FIXED_NOTE = "Set by WAGTAIL_LOGINLIMIT in the Django settings; change it there."
OFF_NOTE = (
    "The plugin is turned off by WAGTAIL_LOGINLIMIT = False in the Django settings."
)
DURATIONS = ("lockout_duration", "long_duration", "valid_duration")
# The panels editors see, in order, and the keys in each.
PANELS = {
    "Enabled": ["enabled"],
    "Lockouts": [
        "lockout_method",
        "allowed_retries",
        "lockout_duration",
        "valid_duration",
        "progressive_delay",
        "captcha_after",
        "attack_threshold",
    ],
    "Repeat offenders": ["allowed_lockouts", "long_duration"],
    "What an attacker can try": [],  # the budget those limits leave
    "Allow and deny lists": [
        "whitelist",
        "whitelist_only",
        "blacklist",
        "deny_usernames",
    ],
    "Networks": [
        "ipv4_prefix",
        "ipv6_prefix",
        "network_retries",
        "ipv4_network_prefix",
        "ipv6_network_prefix",
    ],
    "Accounts": ["deactivate_after"],
    "Notifications": ["lockout_notify", "notify_email_after", "digest"],
}


def edit_url() -> str:
    return reverse(
        "wagtailsettings:edit",
        args=["wagtail_loginlimit", "loginlimitsettings", LoginLimitSettings.load().pk],
    )


def page(admin_client) -> str:
    response = admin_client.get(SETTINGS, follow=True)
    assert response.status_code == 200
    return response.content.decode()


def browser_data(form) -> dict:
    """What a browser posts back for the form as shown: disabled fields are
    not sent."""
    data = {}
    for bound in form:
        if bound.field.disabled:
            continue
        value, widget = bound.value(), bound.field.widget
        if hasattr(widget, "decompress"):
            for index, part in enumerate(widget.decompress(value)):
                data[f"{bound.html_name}_{index}"] = part
        elif isinstance(value, bool):
            if value:
                data[bound.html_name] = "on"
        elif value is not None:
            data[bound.html_name] = value
    return data


def save(admin_client, ip="127.0.0.1", **changes):
    """Open the panel, change some fields as an editor types them, save (from
    the address `ip`)."""
    form = admin_client.get(edit_url()).context["form"]
    data = browser_data(form)
    for name, value in changes.items():
        if name in DURATIONS:
            number, unit = value.split()
            data[f"{name}_0"] = number
            data[f"{name}_1"] = {"days": 86400, "hours": 3600, "minutes": 60}[unit]
        else:
            data[name] = value
    return admin_client.post(edit_url(), data, REMOTE_ADDR=ip)


def shown_duration(html: str, name: str) -> str:
    """A duration as the panel shows it: the number and the selected unit."""
    number = re.search(rf'name="{name}_0" value="(\d+)"', html).group(1)
    select = re.search(rf'<select name="{name}_1".*?</select>', html, re.S).group(0)
    unit = re.search(r"<option [^>]*selected>([^<]+)</option>", select).group(1)
    return f"{number} {unit}"


def controls(html: str, name: str) -> list[str]:
    """The HTML tags of the inputs a key is edited with."""
    return re.findall(
        rf'<(?:input|select|textarea)[^>]*name="{name}(?:_\d)?"[^>]*>', html
    )


# --- what the panel shows -------------------------------------------------------


def test_every_key_is_shown_in_its_panel(admin_client):
    html = page(admin_client)
    assert sorted(sum(PANELS.values(), [])) == sorted(defaults.PANEL)
    parts = re.split(r"<span data-panel-heading-text>([^<]+)</span>", html)
    sections = dict(zip(parts[1::2], parts[2::2], strict=True))
    assert list(sections) == list(PANELS)
    for heading, keys in PANELS.items():
        for key in keys:
            assert controls(sections[heading], key), (heading, key)
            assert all(
                not controls(sections[other], key)
                for other in PANELS
                if other != heading
            )


def test_durations_are_shown_in_readable_units(admin_client):
    html = page(admin_client)
    assert shown_duration(html, "lockout_duration") == "20 minutes"
    assert shown_duration(html, "valid_duration") == "12 hours"
    assert shown_duration(html, "long_duration") == "1 days"


# --- saving ---------------------------------------------------------------------


def test_30_minutes_is_stored_as_seconds_and_used_at_the_next_login(
    admin_client, login, user
):
    response = save(admin_client, lockout_duration="30 minutes")
    assert response.status_code == 302, response.context["form"].errors
    assert LoginLimitSettings.load().lockout_duration == 1800
    assert shown_duration(page(admin_client), "lockout_duration") == "30 minutes"
    assert fail(login, 4)[-1]["Retry-After"] == "1800"


def test_a_bad_cidr_line_in_the_whitelist_is_named(admin_client):
    response = save(admin_client, whitelist="10.0.0.1\n10.0.0.0/33\neditor")
    assert response.status_code == 200
    assert (
        "Entry 2, “10.0.0.0/33”, is not a valid IP address or CIDR range."
        in response.content.decode()
    )
    assert LoginLimitSettings.load().whitelist == ""


@pytest.mark.parametrize("key", ["allowed_retries", "allowed_lockouts"])
def test_zero_retries_or_lockouts_are_refused(admin_client, key):
    response = save(admin_client, **{key: "0"})
    assert response.status_code == 200
    assert response.context["form"].errors[key] == [
        "Ensure this value is greater than or equal to 1."
    ]
    assert getattr(LoginLimitSettings.load(), key) == 4


@pytest.mark.parametrize("key", DURATIONS)
def test_a_huge_duration_is_refused_not_a_500_later(admin_client, login, user, key):
    response = save(admin_client, **{key: "99999999 days"})
    assert response.status_code == 200
    assert response.context["form"].errors[key] == [
        "This duration can be at most 3650 days (315360000 seconds)."
    ]
    assert getattr(LoginLimitSettings.load(), key) == defaults.PANEL[key]
    assert [r.status_code for r in fail(login, 4)] == [200, 200, 200, 429]


def test_10_years_is_accepted(admin_client):
    response = save(admin_client, long_duration="3650 days")
    assert response.status_code == 302, response.context["form"].errors
    assert LoginLimitSettings.load().long_duration == 3650 * 86400


def test_a_huge_duration_stored_before_the_maximum_does_not_break_logins(
    admin_limits, login, user, clock
):
    """A row saved by an older version (or by hand) is read as the maximum."""
    admin_limits()
    # Above the maximum, yet within a 32-bit integer column (PostgreSQL).
    LoginLimitSettings.objects.update(lockout_duration=2_000_000_000)
    responses = fail(login, 4)
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert responses[-1]["Retry-After"] == str(validation.MAX_DURATION_SECONDS)


# --- the valid window is checked against what is really used ---------------------


def test_valid_window_shorter_than_a_lockout_fixed_in_code_is_refused(
    admin_client, settings
):
    settings.WAGTAIL_LOGINLIMIT = {"lockout_duration": 7200}
    response = save(admin_client, valid_duration="1 hours")
    assert response.status_code == 200
    [error] = response.context["form"].errors["valid_duration"]
    assert "make this longer than the lockout duration" in error
    assert LoginLimitSettings.load().valid_duration == 43200


def test_lockout_longer_than_a_valid_window_fixed_in_code_is_refused(
    admin_client, settings
):
    settings.WAGTAIL_LOGINLIMIT = {"valid_duration": 3600}
    response = save(admin_client, lockout_duration="2 hours")
    assert response.status_code == 200
    [error] = response.context["form"].errors["lockout_duration"]
    assert "shorter than the valid window set in WAGTAIL_LOGINLIMIT (3600 seconds)" in (
        error
    )
    assert LoginLimitSettings.load().lockout_duration == 1200


def test_a_stale_stored_value_under_a_code_value_does_not_block_saving(
    admin_client, admin_limits, settings
):
    """The lockout stored long ago (2 hours) is not used: code says 10 minutes,
    so a 1-hour valid window is fine."""
    admin_limits(lockout_duration=7200)
    settings.WAGTAIL_LOGINLIMIT = {"lockout_duration": 600}
    response = save(admin_client, valid_duration="1 hours")
    assert response.status_code == 302, response.context["form"].errors
    stored = LoginLimitSettings.load()
    assert (stored.valid_duration, stored.lockout_duration) == (3600, 7200)


# --- values fixed in code ---------------------------------------------------------


def test_a_key_fixed_in_code_is_read_only_and_keeps_the_stored_value(
    admin_client, admin_limits, settings, login, user
):
    admin_limits(allowed_retries=7)
    settings.WAGTAIL_LOGINLIMIT = {"allowed_retries": 2}
    html = page(admin_client)
    [control] = controls(html, "allowed_retries")
    assert "disabled" in control
    assert 'value="2"' in control  # what is in force, not what is stored
    assert f"Failed logins allowed before a lockout. {FIXED_NOTE}" in html
    assert html.count(FIXED_NOTE) == 1
    assert all("disabled" not in c for c in controls(html, "lockout_duration"))

    response = save(admin_client, lockout_duration="30 minutes")
    assert response.status_code == 302, response.context["form"].errors
    stored = LoginLimitSettings.load()
    assert (stored.allowed_retries, stored.lockout_duration) == (7, 1800)
    assert [r.status_code for r in fail(login, 2)] == [200, 429]


def test_turned_off_in_code_everything_is_read_only(admin_client, settings):
    settings.WAGTAIL_LOGINLIMIT = False
    html = page(admin_client)
    for key in defaults.PANEL:
        found = controls(html, key)
        assert found, key
        assert all("disabled" in c for c in found), key
    assert html.count(OFF_NOTE) == len(defaults.PANEL)
    assert FIXED_NOTE not in html


def test_the_note_is_translated(admin_client, settings):
    settings.WAGTAIL_LOGINLIMIT = {"allowed_retries": 2}
    with translation.override("de"):
        html = admin_client.get(edit_url(), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert FIXED_NOTE not in html
    assert "WAGTAIL_LOGINLIMIT" in html


# --- the lockout records the panel's limits produce -------------------------------


def lockout(**fields) -> Lockout:
    values = {
        "key": "k",
        "scope": "ip",
        "ip_address": "2001:db8::1",
        "ip_group": "2001:db8::/64",
        "username": "editor",
        "started_at": START,
        "ends_at": START + timedelta(minutes=20),
        "failure_count": 4,
    }
    return Lockout(**{**values, **fields})


@pytest.mark.parametrize(
    ("scope", "who"),
    [
        ("ip", "2001:db8::/64"),
        ("username", "editor"),
        ("ip_and_username", "editor @ 2001:db8::/64"),
    ],
)
def test_who_is_locked_out(scope, who):
    assert lockout(scope=scope).who == who


def test_a_lockout_reads_in_the_current_time_zone(settings):
    settings.TIME_ZONE = "Europe/Berlin"
    with timezone.override("Europe/Berlin"):
        assert str(lockout(scope="username")) == "editor until 03/01/2025 1:20 p.m."


def test_lifted_by_a_login_is_a_known_reason(db):
    record = lockout(lifted_at=START, lift_reason="login")
    record.full_clean()
    assert Lockout.LIFTED_LOGIN == events.REASON_LOGIN
    assert record.get_lift_reason_display() == "Lifted by a successful login"
