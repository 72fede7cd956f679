"""Events for other plugins: the Wagtail hooks `loginlimit_insert`,
`loginlimit_block` and `loginlimit_reset`, the Django signals of
`wagtail_loginlimit.events` with the same event, and a raising hook that never
breaks a login."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import timedelta

import pytest
from wagtail import hooks

from tests.conftest import PASSWORD, START
from tests.helpers import fail
from wagtail_loginlimit import events, unlocking
from wagtail_loginlimit.models import Lockout

A = "203.0.113.7"
KINDS = ("insert", "block", "reset")


@pytest.fixture
def heard():
    """Every event the hooks receive, by kind, while the test runs."""
    received = defaultdict(list)
    registrations = [
        (f"loginlimit_{kind}", lambda event, kind=kind: received[kind].append(event))
        for kind in KINDS
    ]
    with hooks.register_temporarily(registrations):
        yield received


def test_insert_for_every_failure(login, user, heard, clock):
    fail(login, 3)
    inserted = heard["insert"]
    assert [e.failure_count for e in inserted] == [1, 2, 3]
    first = inserted[0]
    assert first.kind == "insert"
    assert first.ip_address == A
    assert first.username == "editor"
    assert first.user == user
    assert first.lockout_count == 0
    assert first.locked_until is None
    assert first.long is False
    assert first.request.path == "/admin/login/"
    assert first.request.method == "POST"
    assert heard["block"] == [] and heard["reset"] == []


def test_block_exactly_once_per_lockout(login, user, heard, clock):
    fail(login, 4)
    for _ in range(5):  # refused tries, with the wrong and the right password
        login("editor")
        login("editor", password=PASSWORD)
    [block] = heard["block"]
    assert len(heard["insert"]) == 4
    assert block.kind == "block"
    assert (block.ip_address, block.username, block.user) == (A, "editor", user)
    assert (block.failure_count, block.lockout_count) == (4, 1)
    assert block.locked_until == START + timedelta(minutes=20)
    assert block.long is False
    assert block.reason == "ip"
    assert block.request.path == "/admin/login/"
    assert block.lockout == Lockout.objects.get()


def test_block_for_a_long_lockout(login, user, heard, clock):
    for _ in range(4):
        fail(login, 4)
        clock.shift(timedelta(minutes=20))
    blocks = heard["block"]
    assert [(b.lockout_count, b.long) for b in blocks] == [
        (1, False),
        (2, False),
        (3, False),
        (4, True),
    ]
    # The 4th lockout began after three 20-minute lockouts and lasts a day.
    assert blocks[-1].locked_until == START + timedelta(hours=1, days=1)
    assert blocks[-1].failure_count == 16


def test_one_block_per_counter_that_locks(settings, login, user, heard):
    """With `ip_or_username` one failure can start two lockouts: the IP's and
    the username's. Each is announced once, saying which it is."""
    settings.WAGTAIL_LOGINLIMIT = {"lockout_method": "ip_or_username"}
    fail(login, 4)
    assert sorted(b.reason for b in heard["block"]) == ["ip", "username"]
    fail(login, 3)  # refused
    assert len(heard["block"]) == 2


def test_reset_on_successful_login(client, login, user, heard):
    fail(login, 2)
    assert login("editor", password=PASSWORD).status_code == 302
    [reset] = heard["reset"]
    assert reset.kind == "reset"
    assert reset.reason == "login"
    assert (reset.ip_address, reset.username, reset.user) == (A, "editor", user)
    assert reset.failure_count == 2
    assert reset.request.path == "/admin/login/"


def test_no_reset_when_there_was_nothing_to_reset(login, user, heard):
    assert login("editor", password=PASSWORD).status_code == 302
    assert heard["reset"] == []


def test_reset_on_unlock(
    login, user, heard, admin_user, clock, django_capture_on_commit_callbacks
):
    fail(login, 4)
    with django_capture_on_commit_callbacks(execute=True):  # announced on commit
        unlocking.unlock(ip=A, by=admin_user)
    [reset] = heard["reset"]
    assert reset.reason == "unlock"
    assert reset.ip_address == A
    assert (reset.failure_count, reset.lockout_count) == (4, 1)
    assert reset.locked_until == START + timedelta(minutes=20)
    assert reset.lockout.lifted_by == admin_user
    assert login("editor", password=PASSWORD).status_code == 302


def test_user_is_none_for_an_unknown_username(db, login, heard):
    fail(login, 4, username="nobody-here")
    assert [e.user for e in heard["insert"] + heard["block"]] == [None] * 5
    assert heard["insert"][0].username == "nobody-here"


@pytest.mark.parametrize("kind", KINDS)
def test_signals_get_the_same_event(
    login, user, heard, kind, django_capture_on_commit_callbacks
):
    signal = events.SIGNALS[kind]
    sent = []

    def receiver(sender, event, **kwargs):
        sent.append(event)

    signal.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):  # announced on commit
            fail(login, 4)
            unlocking.unlock(ip=A)
    finally:
        signal.disconnect(receiver)
    assert sent, f"loginlimit_{kind} signal never sent"
    assert [id(e) for e in sent] == [id(e) for e in heard[kind]]


def errors_logged(caplog):
    return [
        r
        for r in caplog.records
        if r.levelno >= logging.ERROR and r.name.startswith("wagtail_loginlimit")
    ]


def raising_hook(event):
    raise RuntimeError("a plugin's bug")


@pytest.mark.parametrize(
    ("kind", "steps", "last_status"),
    [
        ("insert", 1, 200),
        ("block", 4, 429),
        ("reset", 0, 302),
    ],
)
def test_a_raising_hook_is_logged_and_the_login_goes_on(
    login, user, heard, caplog, kind, steps, last_status
):
    with (
        hooks.register_temporarily(f"loginlimit_{kind}", raising_hook, order=-1),
        caplog.at_level(logging.ERROR, logger="wagtail_loginlimit"),
    ):
        responses = fail(login, steps)
        if kind == "reset":
            responses = fail(login, 1) + [login("editor", password=PASSWORD)]
    assert responses[-1].status_code == last_status
    if kind == "insert":
        assert b"3 attempts remaining" in responses[-1].content
    # The hooks registered after the raising one still ran.
    assert heard[kind]
    [record] = errors_logged(caplog)
    assert f"The loginlimit_{kind} hook" in record.getMessage()
    assert "raised; the login goes on" in record.getMessage()
    assert record.exc_info[0] is RuntimeError


def test_a_raising_signal_receiver_is_logged_and_the_login_goes_on(login, user, caplog):
    def receiver(sender, event, **kwargs):
        raise ValueError("boom")

    events.loginlimit_block.connect(receiver)
    try:
        with caplog.at_level(logging.ERROR, logger="wagtail_loginlimit"):
            responses = fail(login, 5)
    finally:
        events.loginlimit_block.disconnect(receiver)
    assert [r.status_code for r in responses] == [200, 200, 200, 429, 429]
    [record] = errors_logged(caplog)
    assert "The loginlimit_block signal receiver" in record.getMessage()
    assert record.exc_info[0] is ValueError


def test_no_events_when_the_plugin_is_off(settings, login, user, heard):
    settings.WAGTAIL_LOGINLIMIT = False
    fail(login, 5)
    login("editor", password=PASSWORD)
    assert dict(heard) == {}


def test_no_events_for_whitelisted_clients(settings, login, user, heard):
    settings.WAGTAIL_LOGINLIMIT = {"whitelist": [A]}
    fail(login, 5)
    assert dict(heard) == {}


@pytest.mark.parametrize("username", ["not-a-number", "x" * 300, "a\x00b"])
def test_event_user_tolerates_any_username(user, username):
    """`event.user` looks the account up as logins do, so text no account can
    have gives None instead of an exception in a hook."""
    from wagtail_loginlimit.events import LoginLimitEvent

    assert LoginLimitEvent(kind="insert", username=username).user is None
    assert LoginLimitEvent(kind="insert", username="editor").user == user


def test_reset_reasons_are_the_documented_ones():
    """The README names the `reason` a `loginlimit_reset` carries; the values
    come from `events.REASON_LOGIN` and the lockout record's lift reasons."""
    from wagtail_loginlimit import events
    from wagtail_loginlimit.models import Lockout

    reasons = {
        events.REASON_LOGIN,
        Lockout.LIFTED_UNLOCK,
        Lockout.LIFTED_COMMAND,
        Lockout.LIFTED_REACTIVATE,
    }
    assert reasons == {"login", "unlock", "command", "reactivate"}
