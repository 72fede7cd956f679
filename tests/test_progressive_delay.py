"""`progressive_delay`: after the k-th failure a client's next try waits
base × 2^(k-1) seconds (capped). Tried through real requests on the Wagtail
login, the Django admin login and a site's own `LoginView`, with the clock
moved by time-machine: a try that comes too early is refused with 429 and
`Retry-After` before any password is checked, and counts nothing."""

from __future__ import annotations

import json
from datetime import timedelta
from html import unescape

import pytest
from django.urls import reverse

from tests.conftest import PASSWORD, client_counters
from wagtail_loginlimit import policy

A = "203.0.113.7"
NEIGHBOUR = "203.0.113.8"  # the same /24 network as A
WAGTAIL_LOGIN = "/admin/login/"
SITE_LOGIN = "/accounts/login/"
DJANGO_ADMIN_LOGIN = "/django-admin/login/"
# What the page says, and the figures the script counts down.
COUNTDOWN = (
    'You can try again in <span class="loginlimit-countdown" role="timer" '
    'aria-live="off" data-loginlimit-countdown="{}">{}</span>.'
)


def text(response) -> str:
    return unescape(response.content.decode())


def failures() -> int:
    return max((c.failures for c in client_counters()), default=0)


@pytest.fixture
def delayed(configure):
    configure(progressive_delay=True)
    return configure


def test_the_waits_double_from_the_base_up_to_the_cap():
    limits = policy.Limits(progressive_delay=True)
    waits = [policy.delay_after(k, limits).total_seconds() for k in range(1, 12)]
    assert waits == [1, 2, 4, 8, 16, 32, 64, 128, 256, 300, 300]
    # A huge count is the cap, not an overflow.
    assert policy.delay_after(10**9, limits) == timedelta(seconds=300)
    assert policy.delay_after(3, policy.Limits()) == timedelta(0)  # off


@pytest.mark.parametrize("path", [WAGTAIL_LOGIN, SITE_LOGIN])
def test_a_try_too_soon_is_refused_unchecked_and_uncounted(
    delayed, login, user, clock, hasher_calls, path
):
    first = login("editor", path=path)
    assert first.status_code == 200
    page = text(first)
    assert "3 attempts remaining." in page
    assert COUNTDOWN.format(1, "0:01") in page
    checked = hasher_calls()

    # The right password, at once: refused before it is checked.
    early = login("editor", PASSWORD, path=path)
    assert early.status_code == 429
    assert early["Retry-After"] == "1"
    assert "<h1>Please wait</h1>" in text(early)
    assert "Too soon after a failed login." in text(early)
    assert COUNTDOWN.format(1, "0:01") in text(early)
    assert "countdown.js" in text(early)
    assert hasher_calls() == checked
    assert failures() == 1  # not counted

    clock.shift(timedelta(seconds=1))
    assert login("editor", PASSWORD, path=path).status_code == 302


def test_the_login_form_is_still_shown_during_the_wait(
    delayed, client, login, user, clock
):
    login("editor")
    page = client.get(WAGTAIL_LOGIN, REMOTE_ADDR=A)
    assert page.status_code == 200
    assert 'name="password"' in text(page)


def test_each_failure_doubles_the_wait_and_lockouts_still_come(
    delayed, login, user, clock
):
    waits = []
    for _ in range(3):
        assert login("editor").status_code == 200
        refused = login("editor")
        assert refused.status_code == 429
        waits.append(int(refused["Retry-After"]))
        clock.shift(timedelta(seconds=waits[-1]))
    assert waits == [1, 2, 4]
    assert failures() == 3
    # The 4th failure is the ordinary 20-minute lockout.
    locked = login("editor")
    assert locked.status_code == 429
    assert locked["Retry-After"] == "1200"
    assert "Too many failed login attempts" in text(locked)
    # After it the count goes on: the 5th failure asks for 16 seconds.
    clock.shift(timedelta(minutes=20))
    assert login("editor").status_code == 200
    assert login("editor")["Retry-After"] == "16"


def test_a_successful_login_forgives_the_waits_too(delayed, client, login, user, clock):
    for _ in range(2):
        login("editor")
        clock.shift(timedelta(seconds=2))
    assert login("editor", PASSWORD).status_code == 302
    client.logout()
    # The count starts again: one second after the next failure, not eight.
    login("editor")
    assert login("editor")["Retry-After"] == "1"


def test_base_and_cap_come_from_code(settings, login, user, clock):
    settings.WAGTAIL_LOGINLIMIT = {
        "progressive_delay": True,
        "progressive_delay_base": timedelta(seconds=10),
        "progressive_delay_max": 15,
        "allowed_retries": 10,
    }
    waits = []
    for _ in range(3):
        login("editor")
        waits.append(int(login("editor")["Retry-After"]))
        clock.shift(timedelta(seconds=waits[-1]))
    assert waits == [10, 15, 15]


def test_a_network_never_makes_its_neighbours_wait(delayed, login, user, clock):
    """One person's typo must not make the whole office wait: only the
    client's own counters delay it, never its network's."""
    login("editor", ip=A)
    assert login("editor", PASSWORD, ip=A).status_code == 429
    assert login("editor", PASSWORD, ip=NEIGHBOUR).status_code == 302


def test_off_by_default(login, user, clock):
    login("editor")
    assert login("editor", PASSWORD).status_code == 302


def test_api_clients_get_json_with_the_wait(delayed, login, user, clock):
    login("editor")
    response = login("editor", HTTP_ACCEPT="application/json")
    assert response.status_code == 429
    body = json.loads(response.content)
    assert body == {
        "detail": "Too soon after a failed login. You can try again in 1 second.",
        "retry_after": 1,
    }


def test_the_wait_is_logged_as_a_refusal_not_a_failure(
    delayed, login, user, clock, caplog
):
    login("editor")
    caplog.clear()
    with caplog.at_level("INFO", logger="wagtail_loginlimit.security"):
        login("editor")
    lines = [r.getMessage() for r in caplog.records]
    assert any("refused ip=203.0.113.7 reason=delayed" in line for line in lines)
    assert not any(" failure " in f" {line} " for line in lines)


def test_the_django_admin_login_counts_down(delayed, client, user, clock):
    response = client.post(
        DJANGO_ADMIN_LOGIN,
        {"username": "editor", "password": "wrong", "next": "/django-admin/"},
        REMOTE_ADDR=A,
    )
    page = text(response)
    assert COUNTDOWN.format(1, "0:01") in page
    # The form's media brings the script.
    assert "wagtail_loginlimit/js/countdown.js" in page


def test_the_wagtail_login_page_loads_the_countdown(client, db):
    assert "wagtail_loginlimit/js/countdown.js" in text(client.get(WAGTAIL_LOGIN))


def test_the_settings_panel_explains_the_waits(settings, admin_client):
    settings.WAGTAIL_LOGINLIMIT = {"progressive_delay_base": 2}
    url = reverse(
        "wagtailsettings:edit", args=["wagtail_loginlimit", "loginlimitsettings"]
    )
    page = text(admin_client.get(url, follow=True))
    assert (
        "The waits are 2 seconds after the first failure, 4 seconds after the "
        "second, 8 seconds after the third, and never more than 5 minutes."
    ) in page


def test_the_wait_speaks_the_persons_language(delayed, login, user, clock):
    german = {"HTTP_ACCEPT_LANGUAGE": "de"}
    failed = text(login("editor", **german))
    assert "Noch 3 Versuche übrig." in failed
    assert "Sie können es in <span" in failed
    refused = text(login("editor", **german))
    assert "<h1>Bitte warten</h1>" in refused
    assert "Zu früh nach einer fehlgeschlagenen Anmeldung." in refused
