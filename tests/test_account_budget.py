"""Account budgets (PRODUCT.md): whatever `lockout_method` is, failures
against one account from unknown devices past the budget (what one client
could try in the valid window: 16 with the defaults) make every unknown
device pass the challenge for that account. Nobody is locked out by it.

The attack it answers: under the default `ip`, 1,000 addresses used to get
12,000 guesses at one account in an hour."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.conftest import PASSWORD
from tests.helpers import address_in_own_network
from tests.test_challenge import challenge_on, solved
from wagtail_loginlimit.clients import METHODS
from wagtail_loginlimit.conf import Config

FIELD = "loginlimit_challenge"


@pytest.fixture
def owner(db):
    return get_user_model().objects.create_user(username="chief", password=PASSWORD)


def post(browser, username="chief", password="wrong", ip="192.0.2.200", **extra):
    return browser.post(
        "/admin/login/",
        {"username": username, "password": password, **extra},
        REMOTE_ADDR=ip,
    )


def spread(username="chief", failures=16, start=0):
    """Failures from addresses that share no network: no client or network
    count adds up, only the account's."""
    for n in range(start, start + failures):
        assert post(Client(), username, ip=address_in_own_network(n)).status_code == 200


def test_the_default_budget_is_what_one_client_can_try_in_the_valid_window():
    assert Config().account_budget_size == 16


@pytest.mark.parametrize("method", METHODS)
def test_past_the_budget_every_stranger_must_pass_the_challenge(
    settings, owner, method, hasher_calls
):
    """Under every method (a budget below `allowed_retries`, so that the
    name's own lockout under `username` does not come first)."""
    settings.WAGTAIL_LOGINLIMIT = {"lockout_method": method, "account_budget": 3}
    spread(failures=3)
    stranger = Client()
    ip = address_in_own_network(100)
    checked = hasher_calls()
    page = post(stranger, ip=ip)
    assert page.status_code == 200
    assert "Confirm that you are a person" in page.content.decode()
    assert hasher_calls() == checked, "a password was checked past the budget"
    # Nobody is locked out: with the challenge the owner gets in.
    done = post(stranger, password=PASSWORD, ip=ip, **{FIELD: solved(page)})
    assert done.status_code == 302


@pytest.mark.parametrize("method", ["ip", "ip_and_username"])
def test_with_the_defaults_16_failures_from_anywhere_spend_the_budget(
    configure, owner, method
):
    configure(lockout_method=method)
    spread(failures=16)
    page = post(Client(), password=PASSWORD, ip=address_in_own_network(100))
    assert "Confirm that you are a person" in page.content.decode()


def test_one_failure_short_of_the_budget_asks_nothing(owner):
    spread(failures=15)
    page = post(Client(), ip=address_in_own_network(100))
    assert challenge_on(page) is not None  # the 16th failure spends it
    assert "Confirm that you are a person" not in page.content.decode()


def test_other_accounts_are_not_asked(owner):
    get_user_model().objects.create_user(username="editor", password=PASSWORD)
    spread(failures=16)
    assert post(Client(), "editor", PASSWORD).status_code == 302


def test_the_accounts_known_device_is_never_asked(owner):
    browser = Client()
    assert post(browser, password=PASSWORD).status_code == 302
    browser.post("/admin/logout/")
    spread(failures=16)
    assert post(browser, password=PASSWORD).status_code == 302


def test_the_budget_is_forgotten_after_the_valid_window(owner, clock):
    spread(failures=16)
    clock.shift(timedelta(hours=12, seconds=1))
    assert post(Client(), password=PASSWORD, ip="192.0.2.201").status_code == 302


def test_a_budget_of_0_turns_it_off(settings, owner):
    settings.WAGTAIL_LOGINLIMIT = {"account_budget": 0}
    spread(failures=30)
    assert post(Client(), password=PASSWORD, ip="192.0.2.202").status_code == 302


def test_a_budget_can_be_set_in_code(settings, owner):
    settings.WAGTAIL_LOGINLIMIT = {"account_budget": 3}
    spread(failures=3)
    page = post(Client(), password=PASSWORD, ip="192.0.2.203")
    assert "Confirm that you are a person" in page.content.decode()


def test_a_form_that_changes_the_name_cannot_skip_the_budget(
    db, settings, hasher_calls
):
    """The login form asks "is the challenge due?" for the name posted, and the
    backend reuses that answer only for the same name: a form that turns
    "chief" into "chief@corp.example" is asked again for the account's name."""
    get_user_model().objects.create_user(
        username="chief@corp.example", password=PASSWORD
    )
    settings.WAGTAIL_LOGINLIMIT = {"account_budget": 3}
    spread("chief@corp.example", failures=3)
    checked = hasher_calls()
    page = Client().post(
        "/domain-login/",
        {"username": "chief", "password": PASSWORD},
        REMOTE_ADDR=address_in_own_network(100),
    )
    assert page.status_code == 200, "signed in past the budget without the challenge"
    assert hasher_calls() == checked


def test_a_distributed_attack_gets_the_budget_not_a_guess_per_address(
    owner, hasher_calls
):
    """200 addresses that do not solve the challenge: 16 passwords are
    checked, then none, where each address used to get its own tries."""
    checked = 0
    for n in range(200):
        before = hasher_calls()
        post(Client(), ip=address_in_own_network(n))
        checked += hasher_calls() > before
    assert checked == 16
