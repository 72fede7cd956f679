"""What a site's own test suite and code do with the plugin installed: Django's
`Client.login()` and `force_login()`, Wagtail's `WagtailPageTestCase`, and
`authenticate()` called without a request. None of them may break.

Signing in without a request is not counted (there is no client to count it
against) and says so once; `"require_request": True` restores axes'
strictness for sites that want it.
"""

from __future__ import annotations

import logging

import pytest
from asgiref.sync import async_to_sync
from axes.exceptions import AxesBackendRequestParameterRequired
from django.conf import settings
from django.contrib.auth import aget_user, authenticate
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from wagtail.models import Page
from wagtail.test.utils import WagtailPageTestCase, WagtailTestUtils

from tests.conftest import PASSWORD
from wagtail_loginlimit.backends import warn_without_request

A = "203.0.113.7"
WARNING = "authenticate() was called without `request`"


@pytest.fixture
def warnings_said(caplog):
    """The without-a-request warnings logged since the test began."""
    warn_without_request.cache_clear()
    caplog.set_level(logging.WARNING)
    return lambda: [r for r in caplog.records if WARNING in r.getMessage()]


@pytest.fixture
def admin(db):
    return WagtailTestUtils.create_superuser("boss", password=PASSWORD)


def signed_in_to_the_admin(client) -> bool:
    response = client.get("/admin/", REMOTE_ADDR=A)
    return response.status_code == 200 and "wagtailadmin/home.html" in {
        t.name for t in response.templates
    }


# --- force_login() with the first backend (WagtailPageTestCase does this) ---


def test_force_login_with_the_first_backend_stays_signed_in(client, admin):
    client.force_login(admin, settings.AUTHENTICATION_BACKENDS[0])
    assert signed_in_to_the_admin(client)


def test_force_login_with_the_first_backend_for_an_inactive_account(client, admin):
    admin.is_active = False
    admin.save()
    client.force_login(admin, settings.AUTHENTICATION_BACKENDS[0])
    assert not signed_in_to_the_admin(client)


def test_the_async_path_finds_the_user_of_such_a_session_too(client, admin):
    client.force_login(admin, settings.AUTHENTICATION_BACKENDS[0])
    request = RequestFactory().get("/")
    request.session = client.session
    assert async_to_sync(aget_user)(request) == admin

    request.session.flush()
    assert isinstance(async_to_sync(aget_user)(request), AnonymousUser)


@pytest.mark.django_db
class TestWagtailsOwnPageTestCase(WagtailPageTestCase):
    """Wagtail's page test assertions sign in with `force_login(user,
    settings.AUTHENTICATION_BACKENDS[0])`."""

    def test_a_page_is_editable_and_previewable(self):
        home = Page.objects.get(depth=2)
        self.assertPageIsRoutable(home)
        self.assertPageIsPreviewable(home)
        self.assertPageIsEditable(home)


# --- Client.login() and authenticate() without a request ---


def test_client_login_works_and_is_not_counted(client, user, login, warnings_said):
    assert client.login(username="editor", password=PASSWORD)
    assert all(not client.login(username="editor", password="wrong") for _ in range(9))

    # Nine wrong passwords without a request locked nobody out.
    client.logout()
    assert "3 attempts remaining." in login("editor").content.decode()
    assert len(warnings_said()) == 1


def test_client_login_signs_in(client, admin, warnings_said):
    assert client.login(username="boss", password=PASSWORD)
    assert signed_in_to_the_admin(client)


def test_authenticate_without_request_warns_once_and_logs_no_error(
    user, warnings_said, caplog
):
    assert authenticate(username="editor", password=PASSWORD) == user
    assert authenticate(username="editor", password="wrong") is None
    assert authenticate(username="nobody", password="wrong") is None

    assert len(warnings_said()) == 1
    assert warnings_said()[0].levelname == "WARNING"
    # axes logs an error for every failed call without a request; not here.
    assert [r for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_require_request_refuses_authenticate_without_request(
    settings, user, warnings_said
):
    settings.WAGTAIL_LOGINLIMIT = {"require_request": True}
    with pytest.raises(AxesBackendRequestParameterRequired):
        authenticate(username="editor", password=PASSWORD)
    # With a request, nothing changes.
    request = RequestFactory().post("/login/", REMOTE_ADDR=A)
    assert authenticate(request, username="editor", password=PASSWORD) == user
    assert warnings_said() == []


def test_a_plugin_turned_off_says_nothing(settings, user, warnings_said):
    settings.WAGTAIL_LOGINLIMIT = False
    assert authenticate(username="editor", password=PASSWORD) == user
    assert warnings_said() == []
