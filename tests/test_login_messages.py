"""What a person sees: "N attempts remaining" on the Wagtail login page and on a
site's own Django `LoginView`; the lockout page (429, `Retry-After`, how long,
long lockouts said so, the username never echoed); JSON for API clients; and the
same answer whether or not the username exists."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from tests.conftest import PASSWORD
from wagtail_loginlimit import storage
from wagtail_loginlimit.clients import ClientIdentity as LoginClient
from wagtail_loginlimit.clients import counter_keys
from wagtail_loginlimit.policy import Limits

A = "203.0.113.7"
WAGTAIL_LOGIN = "/admin/login/"
SITE_LOGIN = "/accounts/login/"
PAGES = [WAGTAIL_LOGIN, SITE_LOGIN]
INVALID_LOGIN = {
    WAGTAIL_LOGIN: "Your username and password didn't match. Please try again.",
    SITE_LOGIN: "Please enter a correct username and password.",
}


def text(response) -> str:
    return unescape(response.content.decode())


def fail(login, times, path=WAGTAIL_LOGIN, username="editor", **extra):
    return [login(username, path=path, **extra) for _ in range(times)]


@pytest.mark.parametrize("path", PAGES)
def test_failures_say_how_many_attempts_remain(login, user, path):
    pages = [text(r) for r in fail(login, 3, path=path)]
    for page, remaining in zip(
        pages, ["3 attempts", "2 attempts", "1 attempt"], strict=True
    ):
        assert INVALID_LOGIN[path] in page
        assert f"{remaining} remaining." in page


@pytest.mark.parametrize("path", PAGES)
def test_lockout_page(login, user, hasher_calls, path, clock):
    response = fail(login, 4, path=path)[-1]
    assert response.status_code == 429
    assert response["Retry-After"] == "1200"
    assert response["Cache-Control"] == "no-store"
    page = text(response)
    assert "<h1>Too many login attempts</h1>" in page
    assert "Too many failed login attempts. You can try again in 20\xa0minutes." in page
    assert "You can sign in again from 12:20 p.m. (UTC)." in page  # clock: 12:00
    assert "remaining" not in page

    # A refused try, even with the right password, gets the same page, counting down.
    clock.shift(timedelta(minutes=5))
    before = hasher_calls()
    refused = login("editor", password=PASSWORD, path=path)
    assert hasher_calls() == before
    assert (refused.status_code, refused["Retry-After"]) == (429, "900")
    assert "You can try again in 15\xa0minutes." in text(refused)


def test_lockout_page_in_the_wagtail_admin_look(login, user):
    page = text(fail(login, 4)[-1])
    assert 'class="login' in page  # Wagtail's login body class
    assert "wagtailadmin" in page  # the admin's own stylesheets
    assert f'href="{WAGTAIL_LOGIN}"' in page  # "Back to sign in"


@pytest.mark.parametrize("path", PAGES)
def test_long_lockouts_say_so(login, user, clock, path):
    for _ in range(3):
        fail(login, 4, path=path)
        clock.shift(timedelta(minutes=20))
    response = fail(login, 4, path=path)[-1]
    assert response["Retry-After"] == "86400"
    page = text(response)
    # The same tone and wording as a short lockout, the end with its date.
    assert "Too many failed login attempts. You can try again in 1\xa0day." in page
    assert "You can sign in again on March 2, 2025 from 1 p.m. (UTC)." in page


USERNAME = "zebra.Unique-77"


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize("accept", ["text/html", "application/json"])
def test_lockout_response_does_not_echo_the_username(db, login, path, accept):
    responses = fail(login, 6, path=path, username=USERNAME, HTTP_ACCEPT=accept)
    for response in responses[3:]:  # the lockout, then refused tries
        assert response.status_code == 429
        body = text(response).lower()
        assert USERNAME.lower() not in body
        assert "zebra" not in body


@pytest.mark.parametrize("path", PAGES)
@pytest.mark.parametrize(
    "headers",
    [
        {"HTTP_ACCEPT": "application/json"},
        {"HTTP_ACCEPT": "application/json; charset=utf-8"},
        {"HTTP_X_REQUESTED_WITH": "XMLHttpRequest"},
    ],
)
def test_json_for_api_clients(login, user, path, headers):
    response = fail(login, 4, path=path, **headers)[-1]
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "1200"
    assert json.loads(response.content) == {
        "detail": "Too many failed login attempts. You can try again in 20\xa0minutes.",
        "retry_after": 1200,
    }


def test_browsers_get_html_even_when_they_accept_json(login, user):
    accept = "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8"
    response = fail(login, 4, HTTP_ACCEPT=accept)[-1]
    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/html")


def test_blacklisted_json(configure, login, user):
    configure(blacklist=[A])
    response = login("editor", HTTP_ACCEPT="application/json")
    assert response.status_code == 403
    assert "Retry-After" not in response
    assert json.loads(response.content) == {
        "detail": "Logins from your network are not allowed.",
        "retry_after": None,
    }


def test_blacklisted_page(configure, login, user):
    configure(blacklist=[A])
    page = text(login("editor"))
    assert "<h1>Login not allowed</h1>" in page
    assert "You can sign in again" not in page


def test_too_many_at_once(login, user, clock):
    """Four tries are still at the password check (or never reported back): the
    fifth is asked to wait until they are done or forgotten (a minute)."""
    keys = counter_keys(LoginClient.build(A, "editor"), "ip")
    for _ in range(4):  # what four requests still at the password check leave
        assert storage.begin_attempt(keys, timezone.now(), Limits()).allowed
    response = login("editor", password=PASSWORD)
    assert (response.status_code, response["Retry-After"]) == (429, "60")
    assert "Too many login attempts at once. Please try again in 1\xa0minute." in text(
        response
    )
    clock.shift(timedelta(minutes=1))
    assert login("editor", password=PASSWORD).status_code == 302


# --- the same answer whether or not the username exists ----------------------------

# CSRF tokens are random per response: in the form and in Wagtail's JS config.
_TOKEN = re.compile(r'(name="csrfmiddlewaretoken" value="|"CSRF_TOKEN": ")[^"]+(")')


def comparable(response) -> tuple:
    headers = {k: v for k, v in response.headers.items() if k.lower() != "set-cookie"}
    return (
        response.status_code,
        headers,
        _TOKEN.sub(r"\1…\2", response.content.decode()),
    )


def attack(path) -> list[tuple]:
    """Three failures, the lockout, and a try with the right password, from one
    address as "editor"."""
    client = Client()
    steps = [{"password": "wrong"}] * 4 + [{"password": PASSWORD}]
    return [
        comparable(client.post(path, {"username": "editor", **step}, REMOTE_ADDR=A))
        for step in steps
    ]


@pytest.mark.parametrize("path", PAGES)
def test_known_and_unknown_usernames_get_identical_answers(db, clock, path):
    account = get_user_model().objects.create_user("editor", password=PASSWORD)
    known = attack(path)

    storage.clear_and_lift(everything=True)
    account.delete()
    unknown = attack(path)

    assert [step[0] for step in known] == [200, 200, 200, 429, 429]
    for step, (k, u) in enumerate(zip(known, unknown, strict=True), start=1):
        assert k == u, f"step {step} tells a known username from an unknown one"


# --- the lockout page offers a way forward; one message per failure ---


def test_the_admin_lockout_page_links_to_the_password_reset(login, user):
    page = text(fail(login, 4)[-1])
    assert 'href="/admin/password_reset/"' in page
    assert "Forgotten password?" in page
    assert "tell the site's administrators" in page


def test_no_reset_link_when_wagtail_turns_password_reset_off(login, user, settings):
    settings.WAGTAIL_PASSWORD_RESET_ENABLED = False
    page = text(fail(login, 4)[-1])
    assert "password_reset" not in page
    assert "Forgotten password?" not in page


def test_a_site_login_lockout_has_no_wagtail_admin_branding(login, user):
    response = fail(login, 4, path=SITE_LOGIN)[-1]
    page = text(response)
    assert response.status_code == 429
    assert "wagtailadmin" not in page  # no admin stylesheet, logo or wordmark
    assert "Too many failed login attempts. You can try again in 20\xa0minutes." in page
    assert f'href="{SITE_LOGIN}"' in page


def test_the_readme_login_snippet_works_with_the_shipped_template(login, user, client):
    assert client.get("/plain/login/").status_code == 200
    page = text(login("editor", path="/plain/login/"))
    assert "3 attempts remaining." in page
    assert login("editor", password=PASSWORD, path="/plain/login/").status_code == 302


def test_a_failure_shows_one_error_box(login, user):
    """Wagtail shows each non-field error in a red box of its own: the error
    and "N attempts remaining" make one."""
    page = text(login("editor"))
    errors = re.findall(r'<li class="error">(.*?)</li>', page, re.S)
    assert len(errors) == 1
    assert "3 attempts remaining." in errors[0]
