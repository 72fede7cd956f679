"""Networks (`network_retries`): rotating addresses inside one IPv4 /24 or one
IPv6 /48 gets at most the network's budget of password checks, under every
lockout method and with both stores; then every address of the network is
refused (429) before a password is checked, until the lockout ends or an
admin unlocks the network."""

from __future__ import annotations

import ipaddress
import itertools
from datetime import timedelta

import pytest
from django.core.cache import caches
from django.core.management import call_command

from tests.conftest import PASSWORD
from wagtail_loginlimit import storage
from wagtail_loginlimit.clients import SCOPE_NETWORK
from wagtail_loginlimit.models import FailureCounter, Lockout

METHODS = ["ip", "username", "ip_and_username", "ip_or_username"]
NETWORK_V4 = "198.51.100.0/24"
NETWORK_V6 = "2001:db8:7::/48"
OTHER_V4 = "192.0.2.10"
OTHER_V6 = "2001:db8:8::1"
CACHE_ALIAS = "network-counters"
SITE_LOGIN = "/accounts/login/"  # a Django LoginView: any account may sign in


def v4_addresses():
    """Every address of the /24, one per try."""
    return (str(address) for address in ipaddress.ip_network(NETWORK_V4).hosts())


def v6_addresses():
    """One address in each /64 of the /48."""
    network = ipaddress.ip_network(NETWORK_V6)
    return (
        str(subnet[1]) for subnet in network.subnets(new_prefix=64)
    )  # a generator: the /48 has 65,536 of them


def usernames():
    """A new name for every try, as credential stuffing does."""
    return (f"victim{n}" for n in itertools.count())


@pytest.fixture(params=["database", "cache"])
def store(request, settings, db):
    """Run with the counters in the database, and in a real Redis."""
    if request.param == "cache":
        server = request.getfixturevalue("redis_server")
        settings.CACHES = {
            **settings.CACHES,
            CACHE_ALIAS: {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": server.url[:-1] + "4",
            },
        }
        settings.WAGTAIL_LOGINLIMIT = {"store": "cache", "cache_alias": CACHE_ALIAS}
        caches[CACHE_ALIAS].clear()
        yield request.param
        caches[CACHE_ALIAS].clear()
    else:
        # Named, or a `redis` run (tests/conftest.py) keeps its cache store.
        settings.WAGTAIL_LOGINLIMIT = {"store": "database"}
        yield request.param


@pytest.fixture
def limits(settings, store):
    """Set `WAGTAIL_LOGINLIMIT` keys on top of the store under test."""

    def apply(**values):
        base = getattr(settings, "WAGTAIL_LOGINLIMIT", None) or {}
        settings.WAGTAIL_LOGINLIMIT = {**base, **values}

    return apply


def rotate(login, addresses, names, tries):
    """One wrong password per address (and per name): the statuses."""
    return [
        login(name, ip=ip).status_code
        for ip, name, _ in zip(addresses, names, range(tries), strict=False)
    ]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("addresses", [v4_addresses, v6_addresses], ids=["v4", "v6"])
def test_rotating_addresses_buys_only_the_network_budget(
    method, addresses, limits, login, user, hasher_calls, clock
):
    limits(lockout_method=method, network_retries=20)
    checked, statuses = [], []
    for ip, name, _ in zip(addresses(), usernames(), range(60), strict=False):
        before = hasher_calls()
        statuses.append(login(name, ip=ip).status_code)
        checked.append(hasher_calls() > before)

    # Twenty passwords checked, the 20th failure locking the whole network out;
    # none after that.
    assert checked == [True] * 20 + [False] * 40
    assert statuses == [200] * 19 + [429] * 41
    lockout = Lockout.objects.get(scope=SCOPE_NETWORK)
    assert lockout.ip_group == (NETWORK_V4 if addresses is v4_addresses else NETWORK_V6)
    assert lockout.failure_count == 20
    assert lockout.ends_at - lockout.started_at == timedelta(seconds=1200)

    # The right password from a fresh address of the network: refused too,
    # before it is checked.
    calls = hasher_calls()
    fresh = next(iter(addresses()))
    assert login("editor", PASSWORD, ip=fresh).status_code == 429
    assert hasher_calls() == calls
    # Another network is not affected.
    other = OTHER_V4 if addresses is v4_addresses else OTHER_V6
    assert login("editor", PASSWORD, ip=other).status_code == 302


def test_network_lockout_ends_after_lockout_duration(limits, login, user, clock):
    limits(network_retries=8)
    assert rotate(login, v4_addresses(), usernames(), 9)[-1] == 429
    clock.shift(timedelta(seconds=1199))
    assert login("editor", PASSWORD, ip="198.51.100.200").status_code == 429
    clock.shift(timedelta(seconds=2))
    assert login("editor", PASSWORD, ip="198.51.100.200").status_code == 302


def test_long_network_lockout_after_allowed_lockouts(limits, login, user, clock):
    limits(network_retries=5, allowed_lockouts=2)
    addresses, names = v4_addresses(), usernames()
    assert rotate(login, addresses, names, 5)[-1] == 429
    clock.shift(timedelta(seconds=1201))
    assert rotate(login, addresses, names, 5)[-1] == 429
    lockouts = Lockout.objects.filter(scope=SCOPE_NETWORK).order_by("started_at")
    assert [lockout.is_long for lockout in lockouts] == [False, True]
    assert lockouts[1].ends_at - lockouts[1].started_at == timedelta(days=1)


def test_network_count_forgotten_after_valid_duration(limits, login, user, clock):
    limits(network_retries=6)
    addresses, names = v4_addresses(), usernames()
    assert set(rotate(login, addresses, names, 5)) == {200}
    clock.shift(timedelta(seconds=43200))
    assert set(rotate(login, addresses, names, 5)) == {200}
    assert not Lockout.objects.exists()


def test_network_retries_zero_turns_it_off(limits, login, user, hasher_calls, clock):
    limits(network_retries=0)
    assert set(rotate(login, v4_addresses(), usernames(), 40)) == {200}
    assert hasher_calls() >= 40
    assert not [c for c in storage.counters() if c.scope == SCOPE_NETWORK]


def test_ipv4_prefix_groups_a_24_as_one_client(limits, login, user, clock):
    limits(ipv4_prefix=24, network_retries=0)
    statuses = rotate(login, v4_addresses(), itertools.repeat("editor"), 5)
    assert statuses == [200, 200, 200, 429, 429]
    lockout = Lockout.objects.get()
    assert (lockout.scope, lockout.ip_group) == ("ip", NETWORK_V4)
    assert login("editor", PASSWORD, ip="198.51.101.1").status_code == 302


def test_whitelisted_range_counts_on_no_network(limits, login, user, clock):
    limits(network_retries=3, whitelist=["198.51.100.0/25"])
    assert set(rotate(login, v4_addresses(), usernames(), 10)) == {200}
    assert not storage.counters()
    # An address of the network outside the whitelisted half is counted.
    assert login("nobody", ip="198.51.100.200").status_code == 200
    assert {c.entry_point or c.scope for c in storage.counters()} == {
        "ip",
        SCOPE_NETWORK,
        "account_budget",  # the name's budget (`account_budget`)
    }


def test_blacklisted_address_refused_as_before(limits, login, user):
    limits(blacklist=["198.51.100.5"])
    assert login("editor", PASSWORD, ip="198.51.100.5").status_code == 403
    assert not storage.counters()


def network_failures() -> list[int]:
    return [c.failures for c in storage.counters() if c.scope == SCOPE_NETWORK]


def test_a_success_forgives_no_other_accounts_failures_on_the_network(
    limits, login, user, clock
):
    limits(network_retries=6)
    assert set(rotate(login, v4_addresses(), usernames(), 5)) == {200}
    assert login("editor", PASSWORD, ip="198.51.100.99").status_code == 302
    assert network_failures() == [5]


@pytest.mark.parametrize("method", METHODS)
def test_an_office_behind_one_nat_never_reaches_the_network_limit(
    method, limits, login, client, clock, django_user_model
):
    """People of one office mistype and then sign in, all day, from the
    addresses of one /24: each sign-in forgives its own account's share of the
    network's count, so the office is never locked out (an attacker's sign-in
    forgives nothing of other accounts': the test above)."""
    limits(lockout_method=method, network_retries=20)
    staff = [f"person{n}" for n in range(8)]
    for name in staff:
        django_user_model.objects.create_user(name, password=PASSWORD)
    for day_round in range(6):  # 48 typos, more than twice network_retries
        for n, (name, ip) in enumerate(zip(staff, v4_addresses(), strict=False)):
            assert login(name, ip=ip, path=SITE_LOGIN).status_code == 200
            signed_in = login(name, PASSWORD, ip=ip, path=SITE_LOGIN)
            assert signed_in.status_code == 302, (day_round, n)
            client.logout()
    assert network_failures() == []


def test_unlock_network_from_the_command_line(limits, login, user, clock):
    limits(network_retries=4)
    assert rotate(login, v4_addresses(), usernames(), 5)[-1] == 429
    call_command("loginlimit_unlock", network=NETWORK_V4)
    assert not [c for c in storage.counters() if c.scope == SCOPE_NETWORK]
    assert Lockout.objects.get(scope=SCOPE_NETWORK).lifted_at is not None
    assert login("editor", PASSWORD, ip="198.51.100.200").status_code == 302


def test_database_store_keeps_network_rows(limits, store, login, user, clock):
    limits(network_retries=4)
    rotate(login, v4_addresses(), usernames(), 2)
    rows = FailureCounter.objects.filter(scope=SCOPE_NETWORK)
    assert rows.count() == (1 if store == "database" else 0)


def test_unlock_network_in_the_admin(limits, login, user, clock):
    from django.test import Client
    from django.urls import reverse
    from wagtail.test.utils import WagtailTestUtils

    limits(network_retries=4)
    assert rotate(login, v4_addresses(), usernames(), 5)[-1] == 429
    lockout = Lockout.objects.get(scope=SCOPE_NETWORK)
    admin = Client()
    admin.force_login(WagtailTestUtils.create_superuser("boss", password=PASSWORD))
    active = reverse("wagtail_loginlimit:active_lockouts")
    page = admin.get(active).content.decode()
    assert NETWORK_V4 in page and "Network" in page
    url = reverse(
        "wagtail_bulk_action", args=["wagtail_loginlimit", "lockout", "unlock"]
    )
    admin.post(f"{url}?id={lockout.pk}&next={active}")
    lockout.refresh_from_db()
    assert lockout.lift_reason == Lockout.LIFTED_UNLOCK
    assert not [c for c in storage.counters() if c.scope == SCOPE_NETWORK]
    assert login("editor", PASSWORD, ip="198.51.100.200").status_code == 302


def test_list_command_shows_network_lockouts(limits, login, user, clock, capsys):
    limits(network_retries=4)
    rotate(login, v4_addresses(), usernames(), 4)
    call_command("loginlimit_list")
    out = capsys.readouterr().out
    assert NETWORK_V4 in out and SCOPE_NETWORK in out


def test_security_log_line_and_block_event_name_the_network(
    limits, login, user, clock, caplog, django_capture_on_commit_callbacks
):
    import logging
    from collections import defaultdict

    from wagtail import hooks

    heard = defaultdict(list)
    limits(network_retries=4)
    registrations = [
        (f"loginlimit_{kind}", lambda event, kind=kind: heard[kind].append(event))
        for kind in ("block", "reset")
    ]
    with (
        hooks.register_temporarily(registrations),
        caplog.at_level(logging.INFO, logger="wagtail_loginlimit.security"),
    ):
        rotate(login, v4_addresses(), usernames(), 4)
        with django_capture_on_commit_callbacks(execute=True):
            call_command("loginlimit_unlock", network="198.51.100.77/24")
    lines = [m for m in caplog.messages if "by=network" in m]
    assert len(lines) == 1, caplog.messages
    [line] = lines
    assert line.startswith("loginlimit lockout ip=198.51.100.4 by=network ")
    assert f" net={NETWORK_V4} " in line
    [block] = heard["block"]
    assert (block.reason, block.network, block.ip_address) == (
        SCOPE_NETWORK,
        NETWORK_V4,
        "198.51.100.4",
    )
    [reset] = heard["reset"]
    assert reset.network == NETWORK_V4


def test_unlock_network_refuses_what_is_no_network(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="not a network"):
        call_command("loginlimit_unlock", network="example.com")
