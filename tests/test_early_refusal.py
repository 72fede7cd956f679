"""A locked-out client posting to a login view is refused before the view runs
(`LoginLimitMiddleware.process_view`): no form is validated, no login page is
rendered and thrown away, no password is hashed. That is what keeps a refused
login cheap under attack (docs/benchmarks.md). Login code that is not a
`LoginView` is refused by the backend instead, after its view ran."""

from __future__ import annotations

import logging
from datetime import timedelta
from html import unescape

import pytest
from django.utils import timezone

from tests.conftest import PASSWORD
from wagtail_loginlimit import storage
from wagtail_loginlimit.clients import ClientIdentity as LoginClient
from wagtail_loginlimit.clients import counter_keys
from wagtail_loginlimit.policy import Limits

A = "203.0.113.7"
LOGIN_TEMPLATES = {
    "/admin/login/": "wagtailadmin/login.html",
    "/accounts/login/": "registration/login.html",
}
# The admin's lockout page in its look; the site's own login gets a plain one.
LOCKOUT_TEMPLATES = {
    "/admin/login/": "wagtail_loginlimit/lockout.html",
    "/accounts/login/": "wagtail_loginlimit/public/lockout.html",
}


def templates(response) -> set[str]:
    return {template.name for template in response.templates}


def lock_out(login, path, username="editor"):
    for _ in range(4):
        login(username, path=path)


@pytest.mark.parametrize("path", list(LOGIN_TEMPLATES))
def test_the_login_view_does_not_run_for_a_locked_out_client(
    login, user, hasher_calls, path
):
    lock_out(login, path)
    before = hasher_calls()

    response = login("editor", password=PASSWORD, path=path)

    assert response.status_code == 429
    assert LOCKOUT_TEMPLATES[path] in templates(response)
    assert LOGIN_TEMPLATES[path] not in templates(response)
    assert hasher_calls() == before


@pytest.mark.parametrize("path", list(LOGIN_TEMPLATES))
def test_a_client_that_may_try_still_gets_the_login_view(login, user, path):
    response = login("editor", path=path)
    assert response.status_code == 200
    assert LOGIN_TEMPLATES[path] in templates(response)
    assert "3 attempts remaining." in unescape(response.content.decode())


def test_the_refused_page_is_rendered_once_and_logged_once(login, user, caplog):
    lock_out(login, "/admin/login/")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="wagtail_loginlimit.security"):
        response = login("editor")
    assert (
        len(
            [
                t
                for t in response.templates
                if t.name == LOCKOUT_TEMPLATES["/admin/login/"]
            ]
        )
        == 1
    )
    refused = [r for r in caplog.records if "loginlimit refused" in r.getMessage()]
    assert len(refused) == 1


def test_a_blacklisted_address_is_refused_before_the_view(configure, login, user):
    configure(blacklist=[A])
    response = login("editor", password=PASSWORD)
    assert response.status_code == 403
    assert "wagtailadmin/login.html" not in templates(response)


def test_login_code_that_is_not_a_login_view_is_still_refused(login, user):
    lock_out(login, "/admin/login/")
    response = login("editor", password=PASSWORD, path="/api/token/")
    assert response.status_code == 429


@pytest.mark.parametrize("path", list(LOGIN_TEMPLATES))
def test_a_get_of_the_login_page_shows_the_lockout_at_once(login, user, client, path):
    """A locked-out person learns it when the page opens, not after typing the
    password again; other clients get the form."""
    lock_out(login, path)
    response = client.get(path, REMOTE_ADDR=A)
    assert response.status_code == 429
    assert response["Retry-After"] == "1200"
    assert LOCKOUT_TEMPLATES[path] in templates(response)
    assert LOGIN_TEMPLATES[path] not in templates(response)

    other = client.get(path, REMOTE_ADDR="198.51.100.20")
    assert other.status_code == 200
    assert LOGIN_TEMPLATES[path] in templates(other)


def test_a_get_of_the_login_page_is_not_a_refused_try(login, user, client, caplog):
    lock_out(login, "/admin/login/")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="wagtail_loginlimit.security"):
        client.get("/admin/login/", REMOTE_ADDR=A)
    assert not [r for r in caplog.records if "refused" in r.getMessage()]


@pytest.mark.parametrize("method", ["username", "ip_and_username"])
def test_without_a_username_the_view_decides(configure, login, user, method):
    """No username in the POST: a method that counts usernames has nothing to
    count it by, so the early check does not guess the client (even if the
    empty name has a lockout); the form answers "This field is required"."""
    configure(lockout_method=method)
    client = LoginClient.build(A, "")
    keys = counter_keys(client, method)
    for _ in range(4):
        storage.record_failure(keys, client, timezone.now(), Limits())
    assert not storage.peek(keys, timezone.now(), Limits()).allowed

    response = login("", path="/admin/login/")

    assert response.status_code == 200
    assert "wagtailadmin/login.html" in templates(response)


def test_without_a_username_a_locked_ip_is_still_refused(configure, login, user):
    """Under `ip_or_username` the IP counts on its own: a locked-out IP is
    refused whatever username it sends, an empty one included."""
    configure(lockout_method="ip_or_username")
    lock_out(login, "/admin/login/")

    response = login("", path="/admin/login/")

    assert response.status_code == 429
    assert "wagtailadmin/login.html" not in templates(response)


def test_with_axes_disabled_nothing_is_refused(settings, login, user):
    lock_out(login, "/admin/login/")
    settings.AXES_ENABLED = False
    assert login("editor", password=PASSWORD).status_code == 302


def test_the_wait_is_rounded_up_to_the_minute(login, user, clock):
    lock_out(login, "/admin/login/")
    clock.shift(timedelta(seconds=30))
    response = login("editor")
    assert response["Retry-After"] == "1170"
    page = unescape(response.content.decode())
    assert "You can try again in 20\xa0minutes." in page
