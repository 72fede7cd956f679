"""`wagtail_loginlimit.drf`: Django REST framework authentication that counts
rejected credentials, tried through Wagtail's real API (`PagesAPIViewSet`
behind the counted classes, tests/urls.py) from one IP.

Rejected tokens are counted per IP at the `api_token` entry point with their
own, higher limit (`api_token_retries`); a wrong Basic password is a failed
login. A refused client gets DRF's JSON with 429 and `Retry-After` before any
credential is looked up."""

from __future__ import annotations

import base64
import json
import logging

import pytest
from django.urls import reverse
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

from tests.conftest import PASSWORD
from wagtail_loginlimit import defaults
from wagtail_loginlimit.models import Lockout

A = "203.0.113.7"
B = "198.51.100.9"
PAGES = "/api/counted/v2/pages/"
RETRIES = defaults.CODE_ONLY["api_token_retries"]
BAD_TOKEN = "0" * 40


def basic(username: str, password: str) -> str:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return f"Basic {token}"


@pytest.fixture
def api_get(client):
    def get(auth: str, ip: str = A, **headers):
        return client.get(PAGES, REMOTE_ADDR=ip, HTTP_AUTHORIZATION=auth, **headers)

    return get


@pytest.fixture
def token_lookups(monkeypatch):
    """How many times DRF looked a token up in the database."""
    calls = []
    original = TokenAuthentication.authenticate_credentials

    def counting(self, key):
        calls.append(key)
        return original(self, key)

    monkeypatch.setattr(TokenAuthentication, "authenticate_credentials", counting)
    return calls


def test_a_hundred_bad_tokens_get_the_token_budget_then_429(
    api_get, user, token_lookups, clock
):
    answers = [api_get(f"Token {BAD_TOKEN}") for _ in range(100)]
    assert len(token_lookups) == RETRIES
    assert [a.status_code for a in answers[: RETRIES - 1]] == [401] * (RETRIES - 1)
    # The failure that starts the lockout already answers 429.
    assert all(a.status_code == 429 for a in answers[RETRIES - 1 :])
    last = answers[-1]
    assert last["Retry-After"] == "1200"
    assert json.loads(last.content) == {
        "detail": "Too many failed login attempts. You can try again in 20\xa0minutes.",
        "retry_after": 1200,
    }
    # A real token from the locked-out address is refused unlooked-at too.
    token = Token.objects.create(user=user)
    assert api_get(f"Token {token.key}").status_code == 429
    assert len(token_lookups) == RETRIES


def test_bad_tokens_never_cost_the_teams_logins(api_get, user, login, clock):
    """A script with a stale token, behind the office's one address: its API
    is refused for a while, but nobody's login try is used up."""
    for _ in range(RETRIES):
        api_get(f"Token {BAD_TOKEN}")
    response = login("editor")
    assert response.status_code == 200
    assert "3 attempts remaining." in response.content.decode()
    # Another address's tokens still work.
    token = Token.objects.create(user=user)
    assert api_get(f"Token {token.key}", ip=B).status_code == 200


def test_good_tokens_are_never_counted_nor_written(api_get, user):
    from wagtail_loginlimit import storage

    token = Token.objects.create(user=user)
    for _ in range(30):
        assert api_get(f"Token {token.key}").status_code == 200
    assert storage.counters() == []


def test_the_token_budget_is_a_code_setting(settings, api_get, db):
    settings.WAGTAIL_LOGINLIMIT = {"api_token_retries": 3}
    assert [api_get(f"Token {BAD_TOKEN}").status_code for _ in range(4)] == [
        401,
        401,
        429,
        429,
    ]


def test_the_lockout_is_reported_as_an_api_token_one(
    api_get, client, db, caplog, admin_user
):
    with caplog.at_level(logging.INFO, logger="wagtail_loginlimit.security"):
        for _ in range(RETRIES):
            api_get(f"Token {BAD_TOKEN}")
    lockout = Lockout.objects.get()
    assert lockout.entry_point == "api_token"
    assert lockout.ip_address == A
    lines = [r.getMessage() for r in caplog.records]
    assert any(
        "lockout ip=203.0.113.7" in line and "entry=api_token" in line for line in lines
    )
    # No token is ever written to the log or the reports.
    assert not any(BAD_TOKEN in line for line in lines)
    client.force_login(admin_user, "django.contrib.auth.backends.ModelBackend")
    report = client.get(reverse("wagtail_loginlimit:active_lockouts"))
    assert "API token" in report.content.decode()


def test_requests_without_a_token_are_left_alone(client, db):
    response = client.get(PAGES, REMOTE_ADDR=A)
    assert response.status_code in (401, 403)
    assert "Retry-After" not in response


def test_wrong_basic_passwords_are_failed_logins_refused_in_json(
    api_get, user, login, hasher_calls
):
    statuses = [api_get(basic("editor", "wrong")).status_code for _ in range(4)]
    assert statuses == [401, 401, 401, 429]
    before = hasher_calls()
    refused = api_get(basic("editor", PASSWORD))
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/json"
    assert json.loads(refused.content)["retry_after"] == 1200
    assert hasher_calls() == before  # refused before the password was hashed
    # The same count as the login page's.
    assert login("editor", password=PASSWORD).status_code == 429


def test_right_basic_passwords_are_never_held_against_the_client(api_get, user, login):
    for _ in range(9):
        assert api_get(basic("editor", PASSWORD)).status_code == 200
    assert "3 attempts remaining." in login("editor").content.decode()
