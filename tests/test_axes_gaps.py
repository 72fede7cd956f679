"""The gaps of django-axes 8.3 that issue 2 names, each closed by this plugin.

Where plain axes can run here (its own backend, handler and lockout response,
set through the `plain_axes` fixture; no mocks), a contrast test shows the gap
first, so that a later axes release that closes it makes that test fail and the
workaround can be reconsidered.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from axes.models import AccessFailureLog
from axes.signals import user_locked_out
from django.contrib.auth import aauthenticate, authenticate
from django.test import RequestFactory

from tests.conftest import PASSWORD, client_counters
from tests.helpers import fail
from wagtail_loginlimit import events
from wagtail_loginlimit.clients import MAX_USERNAME_LENGTH, normalize_username
from wagtail_loginlimit.models import Lockout

A = "203.0.113.7"
B = "198.51.100.9"


@pytest.fixture
def plain_axes(settings):
    """django-axes as its own documentation wires it, without this plugin."""
    settings.AUTHENTICATION_BACKENDS = [
        "axes.backends.AxesBackend",
        "django.contrib.auth.backends.ModelBackend",
    ]
    settings.AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
    settings.AXES_LOCKOUT_CALLABLE = None
    settings.AXES_FAILURE_LIMIT = 4


@pytest.fixture
def locked_out_signals():
    sent = []

    def receiver(sender, **kwargs):
        sent.append(kwargs)

    user_locked_out.connect(receiver)
    yield sent
    user_locked_out.disconnect(receiver)


def api_request(ip=A):
    """A request as a site's own (e.g. API) login view gets it."""
    return RequestFactory().post("/api/login/", REMOTE_ADDR=ip)


def async_login(username, password, ip=A):
    return async_to_sync(aauthenticate)(
        request=api_request(ip), username=username, password=password
    )


# --- (a) aauthenticate() must refuse a locked-out user -----------------------------


def test_aauthenticate_refuses_a_locked_out_user(login, user, hasher_calls):
    fail(login, 4)
    before = hasher_calls()
    assert async_login("editor", PASSWORD) is None
    assert hasher_calls() == before, "the password was checked during the lockout"
    # The lockout is the only reason: from another address the same call works.
    assert async_login("editor", PASSWORD, ip=B) == user


def test_contrast_plain_axes_aauthenticate_lets_a_locked_out_user_in(plain_axes, user):
    """`axes.backends.AxesBackend` inherits `aauthenticate()` from Django's
    `ModelBackend`, which checks the password without asking axes whether the
    client is locked out; `authenticate()` refuses, `aauthenticate()` lets in."""
    for _ in range(4):
        assert authenticate(api_request(), username="editor", password="wrong") is None
    assert authenticate(api_request(), username="editor", password=PASSWORD) is None
    assert async_login("editor", PASSWORD) == user  # the gap


# --- (b) one client's expiry clean-up cannot end another client's lockout ----------


def test_one_clients_cleanup_does_not_end_another_clients_lockout(
    settings, login, user, clock
):
    # Axes' per-request cool-off is ignored by the plugin's counters; set it
    # anyway, as in the contrast below.
    settings.AXES_COOLOFF_TIME = per_request_cool_off
    for _ in range(4):  # client A: the 16th failure, a 24-hour lockout
        fail(login, 4, ip=A)
        clock.shift(timedelta(minutes=20))
    fail(login, 4, ip=B)  # client B: a 20-minute lockout
    clock.shift(timedelta(minutes=21))

    assert login("editor", ip=B).status_code == 200  # B's lockout ended; B fails again

    refused = login("editor", password=PASSWORD, ip=A)
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 22 * 3600


def per_request_cool_off(request):
    """A per-request cool-off (axes calls it with the request): long for A."""
    if request.axes_ip_address == A:
        return timedelta(hours=24)
    return timedelta(minutes=20)


def test_contrast_plain_axes_cleanup_ends_another_clients_lockout(
    plain_axes, settings, user, clock
):
    """Axes' handler deletes every attempt older than *this* request's cool-off
    before it records a failure, whoever made them."""
    settings.AXES_COOLOFF_TIME = per_request_cool_off
    for ip in (A, B):
        for _ in range(4):
            authenticate(api_request(ip), username="editor", password="wrong")
    assert authenticate(api_request(A), username="editor", password=PASSWORD) is None

    clock.shift(timedelta(minutes=21))
    authenticate(api_request(B), username="editor", password="wrong")

    # A was in a 24-hour lockout; B's clean-up deleted its attempts.
    assert authenticate(api_request(A), username="editor", password=PASSWORD) == user


# --- (c) the lockout is announced once, not on every refused request ---------------


def test_lockout_signals_fire_once_per_lockout(login, user, locked_out_signals):
    blocks = []

    def on_block(sender, event, **kwargs):
        blocks.append(event)

    events.loginlimit_block.connect(on_block)
    try:
        fail(login, 4)
        fail(login, 5)  # refused
        login("editor", password=PASSWORD)  # refused
    finally:
        events.loginlimit_block.disconnect(on_block)
    assert len(locked_out_signals) == 1
    assert len(blocks) == 1
    assert locked_out_signals[0]["ip_address"] == A
    assert locked_out_signals[0]["username"] == "editor"


def test_contrast_plain_axes_signals_every_refused_request(
    plain_axes, login, user, locked_out_signals
):
    fail(login, 4)
    fail(login, 5)
    assert len(locked_out_signals) == 1 + 5  # the gap


# --- (d) the lockout response does not echo the username ---------------------------

NAME = "zebra.echo-check"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"},
        {"HTTP_ACCEPT": "application/json"},
    ],
)
def test_lockout_response_does_not_echo_the_username(db, login, headers):
    for response in fail(login, 6, username=NAME, **headers)[3:]:
        assert response.status_code == 429
        assert b"zebra" not in response.content.lower()
        assert "zebra" not in str(response.headers).lower()


def test_contrast_plain_axes_echoes_the_username(plain_axes, db, login):
    response = fail(login, 4, username=NAME, HTTP_X_REQUESTED_WITH="XMLHttpRequest")[-1]
    assert response.status_code == 429
    assert response.json()["username"] == NAME  # the gap


# --- (e) usernames longer than 255 characters --------------------------------------
# Axes stores the username in CharField(max_length=255) columns: on PostgreSQL
# (and MySQL in strict mode) a longer one makes its INSERT fail with a 500.
# SQLite does not enforce VARCHAR lengths, so that crash cannot be shown here;
# these tests show what the plugin stores and counts instead.

PREFIX = "x" * MAX_USERNAME_LENGTH


@pytest.mark.parametrize("length", [256, 300, 1_000_000])
def test_long_usernames_are_counted_and_stored_clipped(settings, db, length):
    settings.WAGTAIL_LOGINLIMIT = {"lockout_method": "ip_or_username"}
    username = "y" * length
    requests = []
    for _ in range(4):
        request = api_request()
        requests.append(request)
        assert authenticate(request, username=username, password="wrong") is None
    assert requests[-1].loginlimit.decision.refused  # the 4th failure locked out
    usernames = [lockout.username for lockout in Lockout.objects.all()] + [
        counter.username for counter in client_counters()
    ]
    usernames += list(AccessFailureLog.objects.values_list("username", flat=True))
    assert usernames and all(
        0 < len(name) <= MAX_USERNAME_LENGTH for name in usernames if name
    )
    assert Lockout.objects.filter(scope="username").count() == 1


def test_long_usernames_with_the_same_prefix_are_counted_apart(settings, db):
    settings.WAGTAIL_LOGINLIMIT = {"lockout_method": "username"}
    first, second = PREFIX + "-one", PREFIX + "-two"
    for _ in range(4):
        authenticate(api_request(), username=first, password="wrong")
    refused = api_request()
    authenticate(refused, username=first, password="wrong")
    assert refused.loginlimit.decision.refused
    allowed = api_request()
    authenticate(allowed, username=second, password="wrong")
    assert not allowed.loginlimit.decision.refused
    assert allowed.loginlimit.decision.tries_left == 3
    # Two counters, each under its own clipped name (kept apart by a digest).
    counted = {counter.username: counter.failures for counter in client_counters()}
    assert counted == {normalize_username(first): 4, normalize_username(second): 1}
    assert all(len(name) == MAX_USERNAME_LENGTH for name in counted)


@pytest.mark.parametrize("path", ["/admin/login/", "/accounts/login/"])
@pytest.mark.parametrize("length", [300, 1_000_000])
def test_long_usernames_on_the_login_pages_do_not_crash(db, login, path, length):
    response = login("z" * length, path=path)
    # Django's login form refuses a username longer than the model's 150
    # characters before any password check, so nothing needs counting here.
    assert response.status_code == 200
