"""The core's shape, as a user of it notices: one record of what a request was
judged, the defaults the README documents, and django-axes' own reset tools
lifting this plugin's lockouts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from axes.utils import reset as axes_reset
from django.core.management import CommandError, call_command
from wagtail import hooks
from wagtail.models import ModelLogEntry

from tests.conftest import PASSWORD, client_counters
from tests.helpers import lock_out
from wagtail_loginlimit import audit_log, defaults
from wagtail_loginlimit.decision import AttemptRecord
from wagtail_loginlimit.models import Lockout, LoginLimitSettings

README = Path(__file__).resolve().parent.parent / "README.md"
ATTACKER = "203.0.113.7"


# --- one record per request ---


def plugin_attributes(request) -> dict:
    """The request's attributes this plugin set (Wagtail caches the settings
    model on the request itself, as `_wagtail_loginlimit.loginlimitsettings`)."""
    wagtail_cache = LoginLimitSettings.get_cache_attr_name()
    return {
        name: value
        for name, value in vars(request).items()
        if "loginlimit" in name.lower() and name != wagtail_cache
    }


@pytest.mark.parametrize("tries", [1, 4, 5])  # counted, locking, refused
def test_a_login_request_carries_one_typed_record(login, user, tries):
    for _ in range(tries):
        response = login("editor")
    attributes = plugin_attributes(response.wsgi_request)
    assert list(attributes) == ["loginlimit"]
    record = attributes["loginlimit"]
    assert isinstance(record, AttemptRecord)
    assert record.decision.tries_left == max(0, 4 - tries)
    assert record.decision.refused == (tries >= 4)


@pytest.mark.parametrize("path", ["/admin/login/", "/"])
def test_a_request_without_a_login_carries_nothing(client, db, path):
    """Opening the login page of a client that is not locked out, or any other
    page, leaves no record."""
    response = client.get(path)
    assert plugin_attributes(response.wsgi_request) == {}


# --- the defaults, written once ---


def readme_table() -> dict[str, str]:
    """The README's configuration table: key -> the default as written."""
    rows = re.findall(r"^\| `(\w+)` \| `([^`]*)`", README.read_text(), re.MULTILINE)
    return dict(rows)


def test_the_readme_documents_every_panel_key_with_its_default():
    table = readme_table()
    assert set(defaults.PANEL) <= set(table)
    for key, written in table.items():
        assert key in defaults.ALL, f"the README documents an unknown key {key}"
        default = defaults.ALL[key]
        if isinstance(default, str):
            assert written == f'"{default}"', key
        else:
            assert written == repr(default), key


def test_the_settings_model_and_the_policy_take_the_same_defaults(db):
    from wagtail_loginlimit.conf import get_config
    from wagtail_loginlimit.policy import Limits

    stored = LoginLimitSettings.load()
    for key, value in defaults.PANEL.items():
        field = LoginLimitSettings._meta.get_field(key)
        expected = "\n".join(value) if isinstance(value, list) else value
        assert field.get_default() == expected, key
    assert get_config().limits == Limits()
    assert stored.as_values()["allowed_retries"] == Limits().allowed_retries


# --- django-axes' own reset tools ---


@pytest.mark.parametrize(
    "command, args",
    [
        ("axes_reset", []),
        ("axes_reset_ip", [ATTACKER]),
        ("axes_reset_username", ["someone"]),
    ],
)
def test_axes_reset_commands_lift_the_lockout(
    login, user, settings, command, args, django_capture_on_commit_callbacks
):
    if command == "axes_reset_username":
        settings.WAGTAIL_LOGINLIMIT = {"lockout_method": "username"}
    lock_out(login)
    seen = []
    with (
        hooks.register_temporarily("loginlimit_reset", seen.append),
        django_capture_on_commit_callbacks(execute=True),
    ):
        output = _run(command, *args)

    assert "attempts removed" in output
    assert "No attempts found" not in output
    assert not Lockout.objects.active().exists()
    assert client_counters() == []  # (`axes_reset` clears the network's too)
    assert Lockout.objects.get().lift_reason == Lockout.LIFTED_COMMAND
    assert seen and {event.reason for event in seen} == {"command"}
    assert ModelLogEntry.objects.filter(action=audit_log.UNLOCK).count() == 1
    # The client may try again at once.
    assert login("editor", password=PASSWORD, ip=ATTACKER).status_code == 302


def test_axes_utils_reset_lifts_the_pair_or_either(db, login, settings):
    settings.WAGTAIL_LOGINLIMIT = {"lockout_method": "ip_or_username"}
    lock_out(login, username="mallory")
    assert Lockout.objects.active().count() == 2  # the IP and the name

    assert axes_reset(ip=ATTACKER, username="mallory", ip_or_username=True) >= 2
    assert not Lockout.objects.active().exists()


def test_axes_utils_reset_of_nothing_locked_says_so(db):
    assert axes_reset(ip="198.51.100.9") == 0
    assert "No attempts found." in _run("axes_reset_ip", "198.51.100.9")


def test_axes_reset_ip_refuses_an_unusable_address_clearly(db):
    with pytest.raises(CommandError, match="is not an IP address"):
        _run("axes_reset_ip", "not-an-ip")


def _run(*args) -> str:
    from io import StringIO

    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()
