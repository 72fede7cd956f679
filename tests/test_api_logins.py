"""Logins through Wagtail's API (Django REST framework): a right password is
never held against the client, a wrong one counts like any failed login.

DRF hands its own `Request` wrapper to `authenticate()` and never calls
`login()`: the try reserved before the password check must still be given back
when the response leaves, or nine correct API calls lock the site's IP out.
"""

from __future__ import annotations

import base64

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from tests.conftest import PASSWORD

A = "203.0.113.7"
PAGES = "/api/v2/pages/"


def basic(username: str, password: str) -> str:
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return f"Basic {token}"


@pytest.fixture
def api_get(client):
    def get(path=PAGES, ip=A, **headers):
        return client.get(path, REMOTE_ADDR=ip, **headers)

    return get


def test_correct_basic_auth_calls_never_lock_the_ip_out(api_get, login, user):
    statuses = [
        api_get(HTTP_AUTHORIZATION=basic("editor", PASSWORD)).status_code
        for _ in range(9)
    ]

    assert statuses == [200] * 9
    # The admin login from the same address is not "too many at once".
    response = login("editor")
    assert response.status_code == 200
    assert "3 attempts remaining." in response.content.decode()


def test_the_api_answers_without_credentials_as_it_would_without_the_plugin(
    api_get, db
):
    assert api_get().status_code == 401


def test_wrong_basic_auth_passwords_count_and_lock_the_client_out(
    api_get, login, user, hasher_calls
):
    statuses = [
        api_get(HTTP_AUTHORIZATION=basic("editor", "wrong")).status_code
        for _ in range(4)
    ]
    assert statuses == [401, 401, 401, 429]

    before = hasher_calls()
    response = api_get(HTTP_AUTHORIZATION=basic("editor", PASSWORD))
    assert response.status_code == 429
    assert "Retry-After" in response
    assert hasher_calls() == before  # refused before the password was checked
    assert login("editor", password=PASSWORD).status_code == 429


def test_a_correct_login_after_failures_keeps_the_remaining_tries(api_get, login, user):
    api_get(HTTP_AUTHORIZATION=basic("editor", "wrong"))
    for _ in range(6):
        assert api_get(HTTP_AUTHORIZATION=basic("editor", PASSWORD)).status_code == 200
    # One failure is counted, the correct calls used up nothing.
    assert "2 attempts remaining." in login("editor").content.decode()


def test_token_authentication_is_not_held_against_the_client(api_get, login, user):
    token = Token.objects.create(user=user)
    for _ in range(9):
        assert api_get(HTTP_AUTHORIZATION=f"Token {token.key}").status_code == 200
    assert login("editor").status_code == 200


def test_drf_token_login_counts_wrong_passwords_and_gives_back_right_ones(
    client, login, user
):
    def obtain(password):
        return client.post(
            "/api/auth-token/",
            {"username": "editor", "password": password},
            REMOTE_ADDR=A,
        )

    for _ in range(9):
        assert obtain(PASSWORD).status_code == 200
    assert [obtain("wrong").status_code for _ in range(4)] == [400, 400, 400, 429]
    assert obtain(PASSWORD).status_code == 429
    assert login("editor", password=PASSWORD).status_code == 429


@pytest.fixture
def remote_user_backend(settings):
    settings.AUTHENTICATION_BACKENDS = [
        *settings.AUTHENTICATION_BACKENDS,
        "django.contrib.auth.backends.RemoteUserBackend",
    ]


def test_remote_user_authentication_is_not_held_against_the_client(
    api_get, login, user, remote_user_backend
):
    for _ in range(9):
        response = api_get("/api/whoami/", REMOTE_USER="editor")
        assert response.status_code == 200
        assert response.json() == {"username": "editor"}
    assert "3 attempts remaining." in login("editor").content.decode()
    assert get_user_model().objects.filter(username="editor").exists()
