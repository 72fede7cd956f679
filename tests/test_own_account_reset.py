"""A success forgives only the failures against the account that signed in
(PRODUCT.md): owning one account gives an attacker no extra tries.

The attack these tests replay through real logins on /admin/login/: from one
IP, three wrong passwords for `editor`, then a real login to an account the
attacker owns, over and over. When a success reset the whole count of the IP,
that bought three more guesses against `editor` per round, for ever. The
password checks are counted by the hasher of tests/hashers.py; the lockouts
are waited out by moving the clock, never by sleeping.

Networks (`network_retries`) are turned off unless a test says otherwise, so
that what holds the attacker is the account rule alone: a network's count is
never forgiven by a success either (tests/test_networks.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import cycle, repeat

import pytest
from django.contrib.auth import get_user_model

from tests.conftest import PASSWORD
from tests.test_lockout_methods import A, remaining
from wagtail_loginlimit import policy, storage
from wagtail_loginlimit.clients import METHODS, SCOPE_IP

ATTACKER = "mallory"  # an account the attacker owns
RETRIES = 4  # the default `allowed_retries`
ROUNDS = 12  # of three guesses and one own login: past the long lockout


@pytest.fixture
def attacker(db):
    return get_user_model().objects.create_user(username=ATTACKER, password=PASSWORD)


@dataclass
class Campaign:
    """What the attacker got: the guesses password-checked between two
    refusals (one entry per lockout period), and each refusal's
    `Retry-After`."""

    checked: list[int] = field(default_factory=lambda: [0])
    retry_after: list[int] = field(default_factory=list)
    own_logins: int = 0


def attack(client, login, hasher_calls, clock, targets, rounds=ROUNDS):
    """`rounds` of three wrong passwords (for the names `targets` gives, in
    turn) and one real login to the attacker's own account, all from IP A.
    A guess refused before the password check waits its lockout out
    (`Retry-After`) and the attack goes on."""
    campaign = Campaign()
    names = iter(targets)
    for _ in range(rounds):
        for _ in range(3):
            before = hasher_calls()
            response = login(next(names), ip=A)
            if hasher_calls() > before:
                # Let through (the failure that starts a lockout is a 429 too).
                campaign.checked[-1] += 1
            else:
                assert response.status_code == 429, "a guess was not checked"
                wait = int(response["Retry-After"])
                campaign.retry_after.append(wait)
                campaign.checked.append(0)
                clock.shift(wait)
        if login(ATTACKER, password=PASSWORD, ip=A).status_code == 302:
            campaign.own_logins += 1
            client.logout()
    return campaign


@pytest.mark.parametrize("method", METHODS)
def test_own_logins_buy_no_guesses_against_another_account(
    configure, client, login, user, attacker, hasher_calls, clock, method
):
    """At most `allowed_retries` guesses against `editor` are checked per
    lockout, and the long lockout comes at the 16th failure as without the
    attacker's own logins."""
    configure(lockout_method=method, network_retries=0)
    campaign = attack(client, login, hasher_calls, clock, repeat("editor"))

    assert campaign.own_logins > 0  # the attacker did sign in between guesses
    assert max(campaign.checked) <= RETRIES, campaign.checked
    assert campaign.checked[:4] == [RETRIES] * 4
    # Three short lockouts, then the long one: the count kept its place.
    assert campaign.retry_after[:4] == [1200, 1200, 1200, 86400]


def test_a_spray_over_twenty_names_is_held_under_ip_or_username(
    configure, client, login, attacker, hasher_calls, clock
):
    """The same rounds, the guesses spread over 20 usernames: the IP's
    counter holds them, its tally forgives the attacker's account nothing."""
    configure(lockout_method="ip_or_username", network_retries=0)
    names = cycle([f"user{n}" for n in range(20)])
    campaign = attack(client, login, hasher_calls, clock, names)

    assert campaign.own_logins > 0
    assert max(campaign.checked) <= RETRIES, campaign.checked
    assert campaign.retry_after[:4] == [1200, 1200, 1200, 86400]


def test_the_same_holds_with_the_defaults(
    configure, client, login, user, attacker, hasher_calls, clock
):
    """Networks counted (`network_retries` 20): no more guesses get through."""
    configure(lockout_method="ip")
    campaign = attack(client, login, hasher_calls, clock, repeat("editor"))
    assert campaign.own_logins > 0
    assert max(campaign.checked) <= RETRIES, campaign.checked


def ip_counter():
    (counter,) = [c for c in storage.counters() if c.scope == SCOPE_IP]
    return counter


@pytest.mark.parametrize("method", METHODS)
def test_the_owners_success_forgives_its_own_failures(
    configure, client, login, user, method
):
    """The count starts again for the owner who mistyped and then signed in."""
    configure(lockout_method=method, network_retries=0)
    for _ in range(3):
        login("editor", ip=A)
    assert login("editor", password=PASSWORD, ip=A).status_code == 302
    client.logout()
    assert remaining(login("editor", ip=A)) == 3


@pytest.mark.parametrize("method", METHODS)
def test_the_owner_is_forgiven_after_its_own_lockout(
    configure, client, login, user, clock, method
):
    """A count that is all the owner's keeps the owner's share across its
    lockout: once it has ended, the owner's login starts the count again."""
    configure(lockout_method=method, network_retries=0)
    for _ in range(4):
        login("editor", ip=A)
    assert login("editor", password=PASSWORD, ip=A).status_code == 429
    clock.shift(1200)
    assert login("editor", password=PASSWORD, ip=A).status_code == 302
    client.logout()
    assert remaining(login("editor", ip=A)) == 3


def test_the_owner_is_forgiven_only_its_own_share(configure, client, login, user):
    """Under `ip`: two failures for `editor`, one for another name; editor's
    login forgives its two, the other one stays counted."""
    configure(lockout_method="ip", network_retries=0)
    login("editor", ip=A)
    login("someone-else", ip=A)
    login("editor", ip=A)
    assert login("editor", password=PASSWORD, ip=A).status_code == 302
    client.logout()
    assert ip_counter().failures == 1
    assert remaining(login("editor", ip=A)) == 2


def test_the_ninth_account_is_counted_but_never_forgiven(
    configure, client, login, hasher_calls
):
    """The tally of an IP's counter remembers `TALLY_SIZE` (8) accounts: a
    failure against a 9th is only in the count. That account's own login
    forgives it nothing, so owning it buys no try; the stored tally stays at
    8 tags however many names the IP tries."""
    assert policy.TALLY_SIZE == 8
    ninth = get_user_model().objects.create_user(username="ninth", password=PASSWORD)
    configure(lockout_method="ip", allowed_retries=10, network_retries=0)
    for n in range(8):
        login(f"user{n}", ip=A)
    assert remaining(login(ninth.username, ip=A)) == 1

    counter = ip_counter()
    assert counter.failures == 9
    tags = [tag for tag, _ in counter.tally]
    assert len(tags) == policy.TALLY_SIZE
    assert policy.account_tag("ninth") not in tags
    assert "user0" not in str(counter.tally)  # tags, never the names

    assert login("ninth", password=PASSWORD, ip=A).status_code == 302
    client.logout()
    assert ip_counter().failures == 9  # nothing forgiven
    before = hasher_calls()
    assert login("editor", ip=A).status_code == 429  # the 10th locks
    assert hasher_calls() == before + 1
    assert login("editor", ip=A).status_code == 429
    assert hasher_calls() == before + 1


def test_a_tallied_account_is_forgiven_beside_a_ninth(configure, client, login):
    """The control: one of the eight tallied accounts is forgiven its share."""
    get_user_model().objects.create_user(username="user0", password=PASSWORD)
    configure(lockout_method="ip", allowed_retries=10, network_retries=0)
    for n in range(9):
        login(f"user{n}", ip=A)
    assert login("user0", password=PASSWORD, ip=A).status_code == 302
    client.logout()
    assert ip_counter().failures == 8
    assert remaining(login("editor", ip=A)) == 1
