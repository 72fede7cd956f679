"""The public API other plugins protect their own forms with: the same
policy, stores, events and log as logins, in the entry point's own namespace
(tests/urls.py's `pin_box` is the example of docs/entry-points.md)."""

import pytest
from django.test import RequestFactory
from wagtail import hooks

from wagtail_loginlimit import api, storage
from wagtail_loginlimit.clients import EntryPoint
from wagtail_loginlimit.models import Lockout

IP = "198.51.100.30"


def pin(client, box=1, value="0000", ip=IP):
    return client.post(f"/box/{box}/", {"pin": value}, REMOTE_ADDR=ip)


@pytest.fixture
def checks(monkeypatch):
    """How many times the example view compared a PIN."""
    import tests.urls

    calls = []
    original = tests.urls.constant_time_compare

    def counting(a, b):
        calls.append(a)
        return original(a, b)

    monkeypatch.setattr(tests.urls, "constant_time_compare", counting)
    return calls


def test_a_hundred_guesses_get_four_checks_then_429(client, db, checks, clock):
    answers = [pin(client) for _ in range(100)]
    assert len(checks) == 4
    assert [a.json()["message"] for a in answers[:3]] == [
        "3 attempts remaining.",
        "2 attempts remaining.",
        "1 attempt remaining.",
    ]
    assert all(a.status_code == 429 for a in answers[3:])
    assert answers[-1]["Retry-After"] == "1200"
    assert pin(client, value="4242").status_code == 429
    assert len(checks) == 4


def test_a_success_forgives_the_clients_failures_at_that_entry_point(client, db):
    """Counted by IP: a success forgives the failures against that key only;
    the guess at box 2 stays counted (PRODUCT.md: owning one key buys no
    tries against another)."""
    pin(client, box=1)
    pin(client, box=2)
    assert pin(client, box=1, value="4242").json() == {"open": True}
    assert pin(client, box=1).json()["message"] == "2 attempts remaining."
    assert pin(client, box=2).json()["message"] == "1 attempt remaining."


def test_counted_by_the_pair_each_key_has_its_own_budget(client, db):
    api.register("vault_pin", counted_by="ip_and_key")
    rf = RequestFactory()
    for _ in range(4):
        request = rf.post("/", REMOTE_ADDR=IP)
        api.check(request, "vault_pin", key="a")
        api.failed(request, "vault_pin", key="a")
    assert api.check(rf.post("/", REMOTE_ADDR=IP), "vault_pin", key="a").refused
    assert api.check(rf.post("/", REMOTE_ADDR=IP), "vault_pin", key="b").allowed


def test_the_entry_points_counts_never_mix_with_logins(client, db, login, user):
    for _ in range(4):
        pin(client)
    assert pin(client).status_code == 429
    assert b"3 attempts remaining." in login("editor", ip=IP).content
    for _ in range(3):
        login("editor", ip=IP)
    assert login("editor", ip=IP).status_code == 429


def test_events_carry_the_entry_point(client, db):
    seen = []
    with (
        hooks.register_temporarily("loginlimit_insert", seen.append),
        hooks.register_temporarily("loginlimit_block", seen.append),
        hooks.register_temporarily("loginlimit_reset", seen.append),
    ):
        pin(client)
        pin(client, value="4242")
        for _ in range(4):
            pin(client)
    assert [(e.kind, e.entry_point) for e in seen] == [
        ("insert", "box_pin"),
        ("reset", "box_pin"),
        *[("insert", "box_pin")] * 4,
        ("block", "box_pin"),
    ]
    assert seen[-1].lockout.entry_point == "box_pin"


def test_unlocking_the_ip_lifts_entry_point_lockouts_too(client, db):
    from wagtail_loginlimit import unlocking

    for _ in range(4):
        pin(client)
    unlocking.unlock(ip=IP, reason=Lockout.LIFTED_UNLOCK)
    assert pin(client).json()["message"] == "3 attempts remaining."


def test_a_request_that_reports_nothing_gives_its_try_back(client, db):
    rf = RequestFactory()
    request = rf.post("/", REMOTE_ADDR=IP)
    for _ in range(10):
        judged = api.check(request, "box_pin", key="1")
        assert judged.allowed
        from wagtail_loginlimit import outcomes

        outcomes.release_unsettled(request)
    assert api.check(request, "box_pin", key="1").tries_left == 4


def test_register_names_what_is_counted(client, db):
    entry = api.register("shared_link", counted_by="ip")
    assert api.entry_point("shared_link") is entry
    request = RequestFactory().post("/", REMOTE_ADDR=IP)
    api.check(request, "shared_link", key="a")
    api.failed(request, "shared_link", key="a")
    other = RequestFactory().post("/", REMOTE_ADDR=IP)
    assert api.check(other, "shared_link", key="b").tries_left == 3
    (counter,) = storage.counters()
    assert (counter.scope, counter.entry_point) == ("ip", "shared_link")


@pytest.mark.parametrize("name", ["", "Has Space", "a\nb", "x" * 41, "é"])
def test_entry_point_names_are_plain_words(name):
    with pytest.raises(ValueError):
        EntryPoint(name)


def test_a_login_counter_keeps_its_digest():
    from wagtail_loginlimit.clients import CounterKey

    login = CounterKey("ip", "198.51.100.30", None)
    assert login.digest == CounterKey("ip", "198.51.100.30", None, "").digest
    assert login.digest != CounterKey("ip", "198.51.100.30", None, "box_pin").digest
