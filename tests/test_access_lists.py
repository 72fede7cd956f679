"""Whitelist (never locked out, never counted) and blacklist (always refused, 403,
no password hashed), through real logins; and the errors for bad entries."""

from __future__ import annotations

import ipaddress

import pytest
from django.core.exceptions import ValidationError

from tests.conftest import PASSWORD
from tests.helpers import fail
from wagtail_loginlimit.models import FailureCounter, Lockout
from wagtail_loginlimit.validation import parse_access_list

A = "203.0.113.7"


# --- whitelist ---------------------------------------------------------------------

WHITELIST_SCENARIOS = [
    # whitelist entries, client IP, username → never locked out?
    # (Whitelisted usernames: tests/test_whitelisted_username.py.)
    (["203.0.113.7"], A, "editor", True),
    (["203.0.113.0/24"], A, "editor", True),
    (["203.0.113.0/24"], "203.0.114.1", "editor", False),
    (["10.0.0.0/8", "192.0.2.1"], "10.200.3.4", "editor", True),
    (["2001:db8::/32"], "2001:db8:ffff::1", "editor", True),
    (["2001:db8::/32"], "2001:db9::1", "editor", False),
    (["2001:db8:1:2::5"], "2001:db8:1:2::5", "editor", True),
    # One address of a /64 is whitelisted, not its whole network.
    (["2001:db8:1:2::5"], "2001:db8:1:2::6", "editor", False),
    (["203.0.113.7"], "::ffff:203.0.113.7", "editor", True),
    (["::ffff:203.0.113.0/120"], A, "editor", True),
    (["# the office", "", "198.51.100.0/24  # VPN"], "198.51.100.77", "x", True),
]


@pytest.mark.parametrize(
    ("whitelist", "ip", "username", "never_locked"), WHITELIST_SCENARIOS
)
def test_whitelist(configure, login, user, whitelist, ip, username, never_locked):
    configure(whitelist=whitelist)
    statuses = {r.status_code for r in fail(login, 8, ip=ip, username=username)}
    if never_locked:
        assert statuses == {200}
        assert not FailureCounter.objects.exists(), "a whitelisted failure was counted"
        assert not Lockout.objects.exists()
    else:
        assert 429 in statuses


def test_whitelisted_ip_logs_in_with_the_right_password_after_many_failures(
    configure, login, user
):
    configure(whitelist=["203.0.113.0/24"])
    fail(login, 20)
    assert login("editor", password=PASSWORD).status_code == 302


def test_whitelisted_page_shows_no_countdown(configure, login, user):
    """No "N attempts remaining" for a client that is never counted."""
    configure(whitelist=[A])
    assert b"remaining" not in login("editor").content


def test_whitelist_in_code_is_a_list(settings, login, user):
    settings.WAGTAIL_LOGINLIMIT = {"whitelist": ["203.0.113.0/24", "2001:db8::/32"]}
    assert {r.status_code for r in fail(login, 6)} == {200}


# --- blacklist ---------------------------------------------------------------------

BLACKLIST_SCENARIOS = [
    # blacklist entries, client IP → refused?
    (["203.0.113.7"], A, True),
    (["203.0.113.0/24"], "203.0.113.200", True),
    (["203.0.113.0/24"], "203.0.112.200", False),
    (["2001:db8::/32"], "2001:db8:abcd::1", True),
    (["2001:db8::/32"], "2001:db9::1", False),
    (["203.0.113.7"], "::ffff:203.0.113.7", True),
    (["::ffff:203.0.113.7"], A, True),
]


@pytest.mark.parametrize(("blacklist", "ip", "refused"), BLACKLIST_SCENARIOS)
def test_blacklist(configure, login, user, hasher_calls, blacklist, ip, refused):
    configure(blacklist=blacklist)
    before = hasher_calls()
    response = login("editor", password=PASSWORD, ip=ip)
    if refused:
        assert response.status_code == 403
        assert hasher_calls() == before, "a blacklisted login reached the hasher"
        assert "Retry-After" not in response
        assert b"Logins from your network are not allowed." in response.content
    else:
        assert response.status_code == 302


def test_blacklisted_attempts_are_not_counted(configure, login, user):
    configure(blacklist=["203.0.113.0/24"])
    assert {r.status_code for r in fail(login, 6)} == {403}
    assert not FailureCounter.objects.exists()
    assert not Lockout.objects.exists()


def test_blacklist_wins_over_whitelist(configure, login, user, hasher_calls):
    configure(whitelist=[A, "editor"], blacklist=["203.0.113.0/24"])
    before = hasher_calls()
    assert login("editor", password=PASSWORD).status_code == 403
    assert hasher_calls() == before


def test_blacklist_is_off_when_the_plugin_is(configure, login, user):
    configure(blacklist=[A], enabled=False)
    assert login("editor", password=PASSWORD).status_code == 302


# --- parsing and validation --------------------------------------------------------


def test_parse_access_list_reads_every_form():
    parsed = parse_access_list(
        "10.0.0.0/8\n192.168.1.5/24\n2001:DB8::/32\n203.0.113.9\n"
        "Alice  # the boss\n\n# a comment line\n::ffff:198.51.100.0/120",
        allow_usernames=True,
    )
    assert parsed.networks == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("192.168.1.0/24"),  # host bits are forgiven
        ipaddress.ip_network("2001:db8::/32"),
        ipaddress.ip_network("203.0.113.9/32"),
        ipaddress.ip_network("198.51.100.0/24"),  # IPv4-mapped → IPv4
    )
    assert parsed.usernames == frozenset({"alice"})
    assert parse_access_list(["10.0.0.1", "10.0.0.2"], allow_usernames=False).has_ip(
        "10.0.0.2"
    )
    assert parse_access_list("a, b ,c", allow_usernames=True).usernames == {
        "a",
        "b",
        "c",
    }


@pytest.mark.parametrize(
    ("entries", "allow_usernames", "named"),
    [
        ("10.0.0.0/33", True, ["Entry 1, “10.0.0.0/33”"]),
        ("10.0.0.1\n300.1.1.1", True, ["Entry 2, “300.1.1.1”"]),
        ("2001:db8::/129", True, ["Entry 1, “2001:db8::/129”"]),
        ("fe80::zz", True, ["Entry 1, “fe80::zz”"]),
        ("10.0.0.1/abc", True, ["Entry 1, “10.0.0.1/abc”"]),
        ("1.2.3", True, ["Entry 1, “1.2.3”"]),  # looks like an IP: not a username
        ("admin", False, ["Entry 1, “admin”"]),  # blacklists hold no usernames
        (
            "10.0.0.0/8\nbad/1\n192.0.2.1\n1.2.3.4.5",
            False,
            ["Entry 2, “bad/1”", "Entry 4, “1.2.3.4.5”"],
        ),
    ],
)
def test_bad_entries_are_named(entries, allow_usernames, named):
    with pytest.raises(ValidationError) as caught:
        parse_access_list(entries, allow_usernames=allow_usernames)
    messages = caught.value.messages
    assert len(messages) == len(named)
    for message, name in zip(messages, named, strict=True):
        assert message.startswith(name)
        assert "not a valid IP address or CIDR range" in message


def test_a_long_bad_entry_is_shortened_in_the_message():
    with pytest.raises(ValidationError) as caught:
        parse_access_list("1." * 5000, allow_usernames=False)
    assert len(caught.value.messages[0]) < 200


@pytest.mark.parametrize("value", [[1, 2], ["10.0.0.1", None], 42])
def test_a_list_of_non_strings_is_refused(value):
    with pytest.raises(ValidationError):
        parse_access_list(value, allow_usernames=True)


def test_lenient_parsing_skips_bad_stored_entries():
    """Values already stored are read with `strict=False`: a bad line is skipped
    rather than breaking every login."""
    parsed = parse_access_list(
        "10.0.0.0/33\n10.0.0.1", allow_usernames=False, strict=False
    )
    assert parsed.has_ip("10.0.0.1")
    assert not parsed.has_ip("10.0.0.2")


def test_bad_entry_stored_in_the_settings_does_not_break_logins(
    admin_limits, login, user
):
    # Saved behind the form's back (e.g. by a data migration): the login goes on.
    from wagtail_loginlimit.models import LoginLimitSettings

    LoginLimitSettings.objects.update_or_create(
        defaults={"blacklist": "999.1.1.1\n203.0.113.7"}
    )
    assert login("editor", password=PASSWORD).status_code == 403
    assert login("editor", password=PASSWORD, ip="192.0.2.1").status_code == 302


def test_model_validation_names_the_bad_line(admin_limits):
    with pytest.raises(ValidationError) as caught:
        admin_limits(whitelist=["10.0.0.1", "10.0.0.0/33"])
    assert "Entry 2, “10.0.0.0/33”" in str(caught.value)
