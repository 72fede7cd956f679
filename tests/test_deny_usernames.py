"""`deny_usernames`: one failed login naming a username no account uses locks
the client out at once, though the page only shows it at the next try."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.checks import run_checks
from wagtail import hooks

from tests.conftest import PASSWORD
from tests.test_settings_panel import save
from wagtail_loginlimit import validation
from wagtail_loginlimit.code_settings import CodeSettings
from wagtail_loginlimit.models import Lockout, LoginLimitSettings

A, B = "203.0.113.7", "198.51.100.9"
_CSRF = re.compile(rb'(name="csrfmiddlewaretoken" value=|"CSRF_TOKEN": )"[^"]*"')


def page(response) -> bytes:
    """A login page without its per-response CSRF tokens."""
    return _CSRF.sub(rb'\1""', response.content)


@pytest.fixture
def deny(settings):
    def apply(*names, **values):
        settings.WAGTAIL_LOGINLIMIT = {"deny_usernames": list(names), **values}

    apply("root", "administrator")
    return apply


def test_one_try_with_a_denied_name_locks_the_ip_out(deny, login, user, hasher_calls):
    first = login("root", ip=B)
    assert first.status_code == 200
    before = hasher_calls()
    # The next try, with a real account and its right password, is refused
    # before any password is checked.
    second = login("editor", PASSWORD, ip=B)
    assert second.status_code == 429
    assert int(second["Retry-After"]) == 1200
    assert hasher_calls() == before
    # Other addresses are not affected.
    assert login("editor", PASSWORD, ip=A).status_code == 302


def test_the_response_is_that_of_an_ordinary_unknown_name(deny, login, db):
    ordinary = login("nobody", ip=A)
    denied = login("root", ip=B)
    assert ordinary.status_code == denied.status_code == 200
    assert b"3 attempts remaining" in ordinary.content
    assert page(denied) == page(ordinary).replace(b"nobody", b"root")
    assert set(denied.headers) == set(ordinary.headers)


def test_names_are_compared_normalised(deny, login, db):
    for number, typed in enumerate(["ROOT", "ｒｏｏｔ", " Administrator "], 1):
        ip = f"198.51.100.{number}"
        assert login(typed, ip=ip).status_code == 200
        assert login("nobody", ip=ip).status_code == 429, typed


def test_the_password_is_still_checked(deny, login, db, hasher_calls):
    """Django hashes once for a name without an account: the denied name
    takes the time any unknown name takes."""
    login("nobody", ip=A)
    ordinary = hasher_calls()
    login("root", ip=B)
    assert hasher_calls() - ordinary == ordinary


def test_lockout_events_and_log_lines_are_the_usual_ones(deny, login, db, caplog):
    blocks, inserts = [], []
    with (
        hooks.register_temporarily("loginlimit_block", blocks.append),
        hooks.register_temporarily("loginlimit_insert", inserts.append),
        caplog.at_level(logging.INFO, logger="wagtail_loginlimit"),
    ):
        login("root", ip=B)
    assert len(inserts) == 1 and inserts[0].failure_count == 4
    assert len(blocks) == 1 and blocks[0].ip_address == B
    lockout = Lockout.objects.get()
    assert lockout.ip_address == B and lockout.failure_count == 4
    lines = [r.getMessage() for r in caplog.records]
    assert any(line.startswith("loginlimit lockout ip=198.51.100.9") for line in lines)
    assert any(
        line.startswith("loginlimit failure ip=198.51.100.9 failures=4 remaining=0")
        for line in lines
    )


def test_the_schedule_goes_on_to_the_long_lockout(deny, login, db, clock):
    deny("root", allowed_lockouts=2)
    login("root", ip=B)
    assert login("root", ip=B)["Retry-After"] == "1200"
    clock.shift(timedelta(seconds=1201))
    # The second lockout of the round is the long one.
    assert login("root", ip=B).status_code == 200
    assert login("root", ip=B)["Retry-After"] == "86400"


def test_after_earlier_failures_the_page_is_what_that_failure_would_show(
    deny, login, db
):
    for _ in range(3):
        login("nobody", ip=B)
    # An ordinary 4th failure locks out: so does the denied one, visibly.
    assert login("root", ip=B).status_code == 429


def test_a_whitelisted_address_is_never_counted(deny, login, db):
    deny("root", whitelist=[B])
    login("root", ip=B)
    assert login("nobody", ip=B).status_code == 200


METHODS = ["ip", "username", "ip_and_username", "ip_or_username"]


@pytest.mark.parametrize("method", METHODS)
def test_an_attack_with_denied_names_locks_the_attackers_ip(
    deny, login, user, hasher_calls, method
):
    """Whatever the lockout method, the attacker's one try with a denied name
    locks its IP out: it cannot spray denied names harmlessly, nor go on to a
    real account's name, and the lockout falls on no account's name."""
    deny("root", "administrator", lockout_method=method)
    first = login("root", ip=B)
    assert first.status_code == 200
    assert b"3 attempts remaining" in first.content
    before = hasher_calls()
    for name, password in [("administrator", "wrong"), ("editor", PASSWORD)]:
        refused = login(name, password, ip=B)
        assert refused.status_code == 429, name
        assert int(refused["Retry-After"]) == 1200
    assert hasher_calls() == before  # refused before any password was checked
    lockout = Lockout.objects.get()
    assert (lockout.scope, lockout.ip_address, lockout.username) == ("ip", B, "")
    # The account's owner, elsewhere, is not locked out; nor is the name.
    assert login("editor", PASSWORD, ip=A).status_code == 302
    assert login("root", ip="192.0.2.1").status_code == 200


@pytest.mark.parametrize("method", ["username", "ip_and_username"])
def test_ordinary_failures_still_do_not_count_by_ip(deny, login, user, method):
    """The IP counter read under these methods counts denied names only."""
    deny("root", lockout_method=method)
    for number in range(6):
        assert login(f"nobody{number}", ip=B).status_code == 200
    assert login("editor", PASSWORD, ip=B).status_code == 302


@pytest.mark.parametrize("method", ["username", "ip_and_username"])
def test_the_ips_schedule_goes_on_to_the_long_lockout(deny, login, db, clock, method):
    deny("root", allowed_lockouts=2, lockout_method=method)
    login("root", ip=B)
    assert login("nobody", ip=B)["Retry-After"] == "1200"
    clock.shift(timedelta(seconds=1201))
    assert login("root", ip=B).status_code == 200
    assert login("nobody", ip=B)["Retry-After"] == "86400"


@pytest.mark.parametrize("method", METHODS)
def test_the_network_counts_a_denied_try_as_it_did(deny, login, db, method):
    """Besides the IP, the network's counter gets the denied try's failures:
    with network_retries 8, two addresses of one /24 trying denied names
    lock the whole network out."""
    deny("root", lockout_method=method, network_retries=8)
    login("root", ip="198.51.100.1")
    login("root", ip="198.51.100.2")
    assert login("nobody", ip="198.51.100.3").status_code == 429
    assert login("nobody", ip=A).status_code == 200


# --- configuration ----------------------------------------------------------------


def test_code_takes_a_list_of_usernames():
    code = CodeSettings({"deny_usernames": ["Admin", "root # the usual"]})
    assert code.values["deny_usernames"].usernames == {"admin", "root"}
    assert "deny_usernames" in CodeSettings({"deny_usernames": "admin, root"}).errors


def test_a_name_that_looks_like_an_address_is_a_name():
    parsed = validation.parse_username_list("10.0.0.1\nroot")
    assert parsed.usernames == {"10.0.0.1", "root"} and not parsed.networks


def test_the_panel_saves_and_uses_the_list(admin_client, login, user):
    response = save(admin_client, deny_usernames="root\r\nsupport")
    assert response.status_code == 302
    assert LoginLimitSettings.load().deny_usernames == "root\nsupport"
    login("Support", ip=B)
    assert login("editor", PASSWORD, ip=B).status_code == 429


def test_the_panel_refuses_an_existing_accounts_name(admin_client, user):
    response = save(admin_client, deny_usernames="root\nEditor")
    assert response.status_code == 200
    errors = response.context["form"].errors["deny_usernames"]
    assert errors == [
        "“editor” is the username of an existing account: denying it would lock "
        "its owner out. Remove it from the list."
    ]
    assert LoginLimitSettings.load().deny_usernames == ""


def test_check_w032_reports_an_existing_account_in_the_list(settings, user):
    settings.WAGTAIL_LOGINLIMIT = {"deny_usernames": ["root", "EDITOR"]}
    found = [m for m in run_checks() if m.id == "wagtail_loginlimit.W032"]
    assert len(found) == 1
    assert "'editor'" in found[0].msg


def test_check_w032_is_silent_without_such_accounts(settings, user):
    settings.WAGTAIL_LOGINLIMIT = {"deny_usernames": ["root"]}
    assert not [m for m in run_checks() if m.id == "wagtail_loginlimit.W032"]


def test_the_sandbox_reads_a_comma_separated_variable():
    sandbox = Path(__file__).resolve().parent.parent / "sandbox"
    env = {**os.environ, "LOGINLIMIT_DENY_USERNAMES": "admin, root"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    out = subprocess.run(  # noqa: S603 (our own interpreter and code)
        [
            sys.executable,
            "-c",
            "import sandbox.settings as s; print(s.WAGTAIL_LOGINLIMIT)",
        ],
        cwd=sandbox,
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert "'deny_usernames': ['admin', 'root']" in out.stdout
