"""A username on the whitelist (PRODUCT.md): exempt only from lockouts by
username and from deactivation. Its failures count against the client's IP,
are logged for fail2ban, and its login page is the page of any other name.

The attack these tests replay: `whitelist = ["admin"]` used to let one IP
check every password it liked against the most valuable account, unlogged,
on a page that told the attacker which names were the admins'."""

import logging
import re

import pytest
from django.contrib.auth import get_user_model

from tests.conftest import PASSWORD
from wagtail_loginlimit.clients import METHODS

A = "203.0.113.7"
B = "198.51.100.9"


@pytest.fixture
def admin(db):
    return get_user_model().objects.create_superuser(
        username="admin", email="admin@example.com", password=PASSWORD
    )


@pytest.mark.parametrize("method", METHODS)
def test_one_ip_gets_no_more_guesses_at_a_whitelisted_name(
    configure, login, admin, hasher_calls, method
):
    """40 wrong passwords for the whitelisted `admin` from one IP: only the
    usual `allowed_retries` are checked, then the IP is locked out."""
    configure(whitelist=["admin"], lockout_method=method)
    hasher_calls()
    statuses = [login("admin", ip=A).status_code for _ in range(4)]
    checked_by_four = hasher_calls()
    assert checked_by_four > 0
    statuses += [login("admin", ip=A).status_code for _ in range(36)]
    assert statuses[:3] == [200, 200, 200]
    assert statuses[4:] == [429] * 36
    assert hasher_calls() == checked_by_four, "a locked-out IP's guess was checked"


@pytest.mark.parametrize("method", METHODS)
def test_its_failures_are_in_the_security_log(configure, login, admin, caplog, method):
    configure(whitelist=["admin"], lockout_method=method)
    with caplog.at_level(logging.INFO, logger="wagtail_loginlimit.security"):
        for _ in range(4):
            login("admin", ip=A)
    lines = [r.getMessage() for r in caplog.records]
    assert sum("loginlimit failure" in line for line in lines) == 4
    assert any(line.startswith("loginlimit lockout ip=203.0.113.7") for line in lines)


def fail_from_many_ips(login, username: str, times: int) -> None:
    for i in range(times):
        login(username, ip=f"192.0.2.{i + 1}")


def _page(response, username: str) -> str:
    """The page with the typed name and the per-request tokens taken out."""
    text = response.content.decode()
    text = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", text)
    text = re.sub(r'"CSRF_TOKEN": "[^"]+"', "", text)
    return text.replace(username, "NAME")


@pytest.mark.parametrize("method", METHODS)
def test_its_login_page_is_like_any_other_names(configure, client, method):
    """Byte for byte, apart from the name: a countdown is shown for both, so
    the page does not say which names are whitelisted."""
    get_user_model().objects.create_user(username="chief", password=PASSWORD)
    configure(whitelist=["chief"], lockout_method=method)
    pages = []
    for name, ip in (("chief", A), ("nobody", B)):
        response = client.post(
            "/admin/login/", {"username": name, "password": "wrong"}, REMOTE_ADDR=ip
        )
        assert b"3 attempts remaining" in response.content
        pages.append(_page(response, name))
    assert pages[0] == pages[1]


@pytest.mark.parametrize("method", ["username", "ip_or_username"])
def test_the_owner_is_never_locked_out_by_name(configure, login, admin, method):
    """Guesses from many addresses never lock `admin` out by its name: the
    owner signs in from its own address."""
    configure(whitelist=["admin"], lockout_method=method)
    fail_from_many_ips(login, "admin", 12)
    assert login("admin", password=PASSWORD, ip=A).status_code == 302


def test_a_name_not_on_the_whitelist_is_locked_out_by_name(configure, login, user):
    """The control for the test above: under `username` an ordinary name is."""
    configure(whitelist=["admin"], lockout_method="username")
    fail_from_many_ips(login, "editor", 4)
    assert login("editor", password=PASSWORD, ip=A).status_code == 429


def test_a_locked_out_ip_is_refused_for_a_whitelisted_name_too(configure, login, admin):
    """Under `ip` the address is the client: once locked out, it is refused for
    every name, the whitelisted one included."""
    configure(whitelist=["admin"])
    for _ in range(4):
        login("intruder", ip=A)
    assert login("admin", password=PASSWORD, ip=A).status_code == 429
    assert login("admin", password=PASSWORD, ip=B).status_code == 302


def test_usernames_are_compared_case_insensitively(configure, login, admin):
    configure(whitelist=["Admin"], lockout_method="username")
    fail_from_many_ips(login, "ADMIN", 8)
    assert login("admin", password=PASSWORD, ip=A).status_code == 302
