"""The attacks of `python -m benchmarks.walkaround` (docs/benchmarks.md), played
for one hour of a stopped clock through real logins on /admin/login/ under every
lockout method, with the defaults. What is asserted is the victim's password
checks in that hour (counts, never timings): the figures of the benchmark's
table for the plugin.

The attacker plays as the benchmark's does: a try every `PACE` seconds; on one
address, a refusal sends it to wait as long as `Retry-After` says; rotating
addresses, it moves on, and waits once `GIVE_UP_AFTER` addresses in a row were
refused.
"""

from __future__ import annotations

import ipaddress
import itertools
from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.conftest import PASSWORD
from wagtail_loginlimit.clients import METHODS

PACE = 0.15
HOUR = 3600.0
GIVE_UP_AFTER = 5
ONE_IP = "203.0.113.66"
VICTIM, OWN, WHITELISTED = "editor", "mallory", "admin"


def one_ip() -> Iterator[str]:
    return itertools.repeat(ONE_IP)


def rotate_v4() -> Iterator[str]:
    network = ipaddress.ip_network("198.51.100.0/24")
    return itertools.cycle(str(address) for address in network.hosts())


def rotate_v6() -> Iterator[str]:
    """One address in each /64 of a /48."""
    base = int(ipaddress.ip_address("2001:db8:aa00::"))
    return (str(ipaddress.ip_address(base + (n << 64) + 1)) for n in itertools.count())


@pytest.fixture
def accounts(db):
    users = get_user_model().objects
    users.create_user(VICTIM, "editor@example.com", PASSWORD)
    users.create_user(OWN, "mallory@example.com", PASSWORD)
    users.create_superuser(WHITELISTED, "admin@example.com", PASSWORD)


@pytest.fixture
def play(settings, accounts, login, hasher_calls, clock):
    """Play an hour of an attack; the number of the victim's tries whose
    password was checked."""

    def attack(
        method: str,
        addresses: Callable[[], Iterator[str]],
        usernames: Callable[[], Iterator[str]] = lambda: itertools.repeat(VICTIM),
        own_login_every: int = 0,
    ) -> int:
        settings.WAGTAIL_LOGINLIMIT = {
            "lockout_method": method,
            "whitelist": [WHITELISTED],
        }
        rotates = addresses is not one_ip
        addresses_, usernames_ = addresses(), usernames()
        elapsed = 0.0
        checked = tries = refused_in_a_row = 0
        while elapsed < HOUR:
            address = next(addresses_)
            before = hasher_calls()
            response = login(next(usernames_), ip=address)
            assert response.status_code in (200, 429), response.status_code
            checked += hasher_calls() > before
            if "Confirm that you are a person" in response.content.decode():
                # The account's budget is spent: every further try must solve
                # the challenge, which this attacker does not.
                break
            tries += 1
            wait = PACE
            refused = response.status_code == 429
            refused_in_a_row = refused_in_a_row + 1 if refused else 0
            if refused and (not rotates or refused_in_a_row >= GIVE_UP_AFTER):
                wait += float(response["Retry-After"])
                refused_in_a_row = 0
            elif not refused and own_login_every and tries % own_login_every == 0:
                # A real sign-in to the attacker's own account, same address.
                own = Client().post(
                    "/admin/login/",
                    {"username": OWN, "password": PASSWORD},
                    REMOTE_ADDR=address,
                )
                assert own.status_code == 302
                wait += PACE
            clock.shift(timedelta(seconds=wait))
            elapsed += wait
        return checked

    return attack


# The plugin's columns of the benchmark's table, with the defaults:
# `allowed_retries` 4 (three lockouts of 20 minutes fit in an hour: 12) and
# `network_retries` 20 per /24 or /48 (three network lockouts: 60).
ONE_CLIENT = dict.fromkeys(METHODS, 12)
# Rotation under `ip` and `ip_and_username`: the account's budget (16, the
# valid window's worth of one client) comes before the network's 20.
NETWORK_BOUND = {"ip": 16, "username": 12, "ip_and_username": 16, "ip_or_username": 12}
SPRAY = {"ip": 12, "username": 60, "ip_and_username": 60, "ip_or_username": 12}


@pytest.mark.parametrize("method", METHODS)
def test_whitelisted_name_from_one_address(play, method):
    checked = play(method, one_ip, lambda: itertools.repeat(WHITELISTED))
    assert checked == ONE_CLIENT[method]


@pytest.mark.parametrize("method", METHODS)
def test_own_account_sign_ins_forgive_nothing_against_the_victim(play, method):
    assert play(method, one_ip, own_login_every=3) == ONE_CLIENT[method]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("addresses", [rotate_v4, rotate_v6], ids=["/24", "/48"])
def test_rotating_addresses_in_one_network(play, method, addresses):
    assert play(method, addresses) == NETWORK_BOUND[method]


@pytest.mark.parametrize("method", METHODS)
def test_spray_over_usernames_from_one_address(play, method):
    names = lambda: (f"user{n}" for n in itertools.count())  # noqa: E731
    assert play(method, one_ip, names) == SPRAY[method]
