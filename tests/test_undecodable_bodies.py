"""A form posted in a charset Django will not decode answers 400 on every
login page, through the real CSRF check (`Client(enforce_csrf_checks=True)`):
Django 5.2 raises `BadRequest` for a urlencoded body that is not UTF-8, and its
400 handler, which checks the CSRF token, read the body again and turned it
into a 500. The test client skips the CSRF check unless told, which hid it."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient, Client

from tests.conftest import PASSWORD

A = "203.0.113.7"
LOGIN_PAGES = [
    "/admin/login/",
    "/django-admin/login/",
    "/accounts/login/",
    "/admin/password_reset/",
]
CHARSETS = ["utf-16", "latin-1", "iso-8859-15", "utf8"]


@pytest.fixture
def browser():
    """A client that checks CSRF tokens, as a real site does; responses are
    what a browser would get (no exception raised into the test)."""
    return Client(enforce_csrf_checks=True, raise_request_exception=False)


def form_post(browser, path, charset, username="editor", password="wrong"):
    browser.get(path, REMOTE_ADDR=A)  # the form page sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    fields = f"username={username}&password={password}&csrfmiddlewaretoken={token}"
    body = fields.encode("latin-1" if charset == "no-such-charset" else charset)

    return browser.generic(
        "POST",
        path,
        body,
        content_type=f"application/x-www-form-urlencoded; charset={charset}",
        REMOTE_ADDR=A,
    )


@pytest.mark.parametrize("charset", CHARSETS)
@pytest.mark.parametrize("path", LOGIN_PAGES)
def test_a_form_in_another_charset_is_a_bad_request(browser, user, path, charset):
    assert form_post(browser, path, charset).status_code == 400


@pytest.mark.parametrize("path", ["/admin/login/", "/accounts/login/"])
def test_a_charset_nobody_knows_is_read_as_utf8_and_counted(browser, user, path):
    """Django ignores a charset it does not know; so does the plugin: the
    login is checked and counted like any other."""
    response = form_post(browser, path, "no-such-charset")
    assert response.status_code == 200
    assert "3 attempts remaining." in response.content.decode()


@pytest.mark.parametrize("path", ["/admin/login/", "/accounts/login/"])
def test_it_is_not_counted_as_a_failed_login(browser, login, user, path):
    for _ in range(5):
        form_post(browser, path, "utf-16")
    assert "3 attempts remaining." in login("editor").content.decode()


@pytest.mark.parametrize("charset", ["utf-8", "UTF-8"])
def test_a_utf8_form_signs_in_through_the_csrf_check(browser, user, charset):
    response = form_post(browser, "/admin/login/", charset, password=PASSWORD)
    assert response.status_code == 302


def test_a_missing_csrf_token_is_still_a_csrf_failure(browser, user):
    response = browser.post(
        "/admin/login/",
        {"username": "editor", "password": PASSWORD},
        REMOTE_ADDR=A,
    )
    assert response.status_code == 403


def test_a_view_exempt_from_csrf_reads_an_empty_form_not_a_500(browser, user):
    response = browser.generic(
        "POST",
        "/api/token/",
        f"username=editor&password={PASSWORD}".encode("utf-16"),
        content_type="application/x-www-form-urlencoded; charset=utf-16",
        REMOTE_ADDR=A,
    )
    assert response.status_code == 401


def test_the_async_path_answers_400_too(user):
    async def post():
        client = AsyncClient(enforce_csrf_checks=True, raise_request_exception=False)
        page = await client.get("/accounts/login/")
        token = page.cookies["csrftoken"].value
        return await client.generic(
            "POST",
            "/accounts/login/",
            f"username=editor&password=x&csrfmiddlewaretoken={token}".encode("utf-16"),
            content_type="application/x-www-form-urlencoded; charset=utf-16",
            headers={"cookie": f"csrftoken={token}"},
        )

    assert async_to_sync(post)().status_code == 400
