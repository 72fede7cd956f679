"""`whitelist_only`: logins only from the whitelist's IPs and ranges. From
anywhere else every entry point answers 403 before any secret is checked, and
the settings form will not turn it on from an address it would shut out."""

import pytest
from django.core import checks
from wagtail.models import Page, PageViewRestriction

from tests.conftest import PASSWORD
from tests.test_settings_panel import save
from wagtail_loginlimit.models import LoginLimitSettings

OFFICE = "10.0.0.0/8"
INSIDE = "10.1.2.3"
OUTSIDE = "203.0.113.7"


@pytest.fixture
def office_only(configure):
    configure(whitelist=[OFFICE, "editor"], whitelist_only=True)


def test_a_login_from_outside_is_refused_before_the_password(
    office_only, login, user, hasher_calls
):
    hasher_calls()
    response = login("editor", password=PASSWORD, ip=OUTSIDE)
    assert response.status_code == 403
    assert b"only from the site" in response.content
    assert "Retry-After" not in response
    assert hasher_calls() == 0


def test_a_whitelisted_username_does_not_open_the_door(office_only, login, user):
    """Only addresses count: `editor` is on the list, but not its address."""
    assert login("editor", password=PASSWORD, ip=OUTSIDE).status_code == 403


def test_a_login_from_the_whitelist_goes_on(office_only, login, user):
    assert login("editor", password=PASSWORD, ip=INSIDE).status_code == 302


def test_the_login_page_says_so_at_once(office_only, client):
    response = client.get("/admin/login/", REMOTE_ADDR=OUTSIDE)
    assert response.status_code == 403
    assert client.get("/admin/login/", REMOTE_ADDR=INSIDE).status_code == 200


def test_the_django_admin_login_is_refused_too(office_only, login, admin_user):
    response = login(
        "admin", password=PASSWORD, ip=OUTSIDE, path="/django-admin/login/"
    )
    assert response.status_code == 403


def test_a_page_password_is_refused_too(office_only, client):
    page = Page.objects.get(depth=2)
    restriction = PageViewRestriction.objects.create(
        page=page, restriction_type=PageViewRestriction.PASSWORD, password="s3cret"
    )
    url = f"/_util/authenticate_with_password/{restriction.pk}/{page.pk}/"
    data = {"password": "s3cret", "return_url": "/"}
    assert client.post(url, data, REMOTE_ADDR=OUTSIDE).status_code == 403
    assert client.post(url, data, REMOTE_ADDR=INSIDE).status_code == 302


def test_a_password_reset_request_is_refused_too(office_only, client, user, mailoutbox):
    data = {"email": user.email}
    response = client.post("/admin/password_reset/", data, REMOTE_ADDR=OUTSIDE)
    assert response.status_code == 403
    assert mailoutbox == []


def test_off_by_default(login, user):
    assert login("editor", password=PASSWORD, ip=OUTSIDE).status_code == 302


# --- the settings form ---


def test_the_form_will_not_shut_out_the_editor(admin_client):
    response = save(admin_client, ip=OUTSIDE, whitelist=OFFICE, whitelist_only="on")
    assert response.status_code == 200  # the form again, with the error
    assert (
        f"Your address {OUTSIDE} is not on the whitelist" in response.content.decode()
    )
    assert not LoginLimitSettings.load().whitelist_only


def test_the_form_turns_it_on_from_a_whitelisted_address(admin_client):
    response = save(admin_client, ip=INSIDE, whitelist=OFFICE, whitelist_only="on")
    assert response.status_code == 302
    assert LoginLimitSettings.load().whitelist_only


def test_switched_on_in_code_the_form_will_not_drop_the_editors_network(
    settings, admin_client
):
    settings.WAGTAIL_LOGINLIMIT = {"whitelist_only": True}
    LoginLimitSettings.objects.update_or_create(defaults={"whitelist": OFFICE})
    response = save(admin_client, ip=INSIDE, whitelist="192.0.2.0/24")
    assert response.status_code == 200
    assert "not on the whitelist" in response.content.decode()
    assert LoginLimitSettings.load().whitelist == OFFICE


def test_a_check_warns_when_code_leaves_no_address_on_the_whitelist(settings):
    settings.WAGTAIL_LOGINLIMIT = {"whitelist_only": True, "whitelist": ["ops"]}
    ids = [message.id for message in checks.run_checks()]
    assert "wagtail_loginlimit.W034" in ids
    settings.WAGTAIL_LOGINLIMIT = {"whitelist_only": True, "whitelist": [OFFICE]}
    ids = [message.id for message in checks.run_checks()]
    assert "wagtail_loginlimit.W034" not in ids
