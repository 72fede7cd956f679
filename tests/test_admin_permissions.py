"""Who sees the login-security screens: "Can manage login limits", granted
through a Wagtail group; the settings panel keeps Wagtail's settings permission."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse
from wagtail.test.utils import WagtailTestUtils

from tests.conftest import PASSWORD
from wagtail_loginlimit.models import Lockout

REPORTS = [
    reverse("wagtail_loginlimit:active_lockouts"),
    reverse("wagtail_loginlimit:active_lockouts_results"),
    reverse("wagtail_loginlimit:lockout_history"),
    reverse("wagtail_loginlimit:failed_logins"),
    reverse("wagtail_loginlimit:deactivated_accounts"),
    reverse("wagtail_loginlimit:failed_logins") + "?export=csv",
]
SETTINGS = reverse(
    "wagtailsettings:edit", args=["wagtail_loginlimit", "loginlimitsettings"]
)


def _bulk(action_model, action):
    return reverse(
        "wagtail_bulk_action", args=["wagtail_loginlimit", action_model, action]
    )


@pytest.fixture
def locked_out(db):
    attacker = Client()
    for _ in range(4):
        attacker.post(
            "/admin/login/",
            {"username": "x", "password": "y"},
            REMOTE_ADDR="203.0.113.7",
        )
    return Lockout.objects.get()


def admin_user(username):
    """A user who may enter the admin and nothing more (Wagtail 7.4's
    `create_user` has no `permissions=` argument)."""
    user = WagtailTestUtils.create_user(username, password=PASSWORD)
    user.user_permissions.add(Permission.objects.get(codename="access_admin"))
    return user


@pytest.fixture
def editor_client(db):
    """A Wagtail editor: admin access, no login-limits permission."""
    editor = admin_user("moderator")
    client = Client()
    client.force_login(editor)
    client.user = editor
    return client


def grant(user, *codenames):
    group = Group.objects.create(name="Security team")
    group.permissions.set(
        Permission.objects.filter(
            content_type__app_label__in=["wagtailadmin", "wagtail_loginlimit"],
            codename__in=["access_admin", *codenames],
        )
    )
    user.groups.add(group)


def test_without_the_permission_reports_answer_403(editor_client, locked_out):
    for url in REPORTS:
        response = editor_client.get(url)
        assert response.status_code == 403, url
        assert "Can manage login limits" in response.content.decode()
        assert "203.0.113.7" not in response.content.decode()


def test_without_the_permission_unlock_answers_403(editor_client, locked_out):
    url = _bulk("lockout", "unlock") + f"?id={locked_out.pk}"
    assert editor_client.get(url).status_code == 403
    assert editor_client.post(url).status_code == 403
    assert Lockout.objects.active().count() == 1
    assert (
        editor_client.get(_bulk("deactivation", "reactivate") + "?id=1").status_code
        == 403
    )


def test_without_the_permission_the_menu_is_hidden(editor_client):
    dashboard = editor_client.get(reverse("wagtailadmin_home")).content.decode()
    assert "Login security" not in dashboard
    assert reverse("wagtail_loginlimit:active_lockouts") not in dashboard


def test_granted_through_a_group_it_works(editor_client, locked_out):
    grant(editor_client.user, "manage_loginlimit")
    for url in REPORTS:
        assert editor_client.get(url).status_code == 200, url
    dashboard = editor_client.get(reverse("wagtailadmin_home")).content.decode()
    assert "Login security" in dashboard
    assert reverse("wagtail_loginlimit:active_lockouts") in dashboard

    url = _bulk("lockout", "unlock") + f"?id={locked_out.pk}"
    assert editor_client.post(url).status_code == 302
    assert Lockout.objects.active().count() == 0


def test_group_editor_offers_the_permission(db):
    admin = WagtailTestUtils.create_superuser("boss", password=PASSWORD)
    client = Client()
    client.force_login(admin)
    page = client.get(reverse("wagtailusers_groups:add")).content.decode()
    assert "Can manage login limits" in page
    permission = Permission.objects.get(codename="manage_loginlimit")
    assert f'value="{permission.pk}"' in page


def test_settings_panel_follows_wagtails_settings_permission(editor_client):
    # Managing lockouts does not let you change the limits ...
    grant(editor_client.user, "manage_loginlimit")
    refused = editor_client.get(SETTINGS, follow=True)
    assert 'name="allowed_retries"' not in refused.content.decode()
    assert "do not have permission" in refused.content.decode()
    # ... Wagtail's own setting permission does, without the reports.
    other = admin_user("settings-editor")
    other.user_permissions.add(
        Permission.objects.get(codename="change_loginlimitsettings")
    )
    client = Client()
    client.force_login(other)
    allowed = client.get(SETTINGS, follow=True)
    assert allowed.status_code == 200
    assert 'name="allowed_retries"' in allowed.content.decode()
    assert client.get(REPORTS[0]).status_code == 403


def test_the_menu_root_leads_to_the_active_lockouts(admin_client):
    response = admin_client.get("/admin/login-security/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/login-security/lockouts/active/"
