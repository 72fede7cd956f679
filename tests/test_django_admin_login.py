"""The Django admin's login (`django.contrib.admin`, mounted at /django-admin/
in tests/urls.py) is counted like every other: "N attempts remaining" on its
form, a lockout page with 429 and `Retry-After`, and a locked-out client
refused before the view runs or a password is hashed.

`AdminLoginForm` is put on `admin.site` when the app starts, unless the site
chose a login form of its own."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django import forms
from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm

from tests.conftest import PASSWORD
from wagtail_loginlimit.forms import AdminLoginForm, use_on_django_admin

A = "203.0.113.7"
LOGIN = "/django-admin/login/"
LOGIN_TEMPLATE = "admin/login.html"
# Not the Wagtail admin: the plain lockout page a site can style.
LOCKOUT_TEMPLATE = "wagtail_loginlimit/public/lockout.html"


def errors(response) -> list[str]:
    """The messages the admin's login page shows above its form."""
    html = response.content.decode()
    notes = re.findall(r'<p class="errornote">\s*(.*?)\s*</p>', html, re.S)
    return [unescape(note) for note in notes]


def templates(response) -> set[str]:
    return {template.name for template in response.templates}


@pytest.fixture
def admin_login(client):
    def post(username="admin", password="wrong", ip=A):
        return client.post(
            LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip
        )

    return post


def test_a_failure_says_how_many_attempts_remain(admin_login, admin_user):
    response = admin_login()
    assert response.status_code == 200
    assert errors(response) == [
        "Please enter the correct username and password for a staff account. "
        "Note that both fields may be case-sensitive. 3 attempts remaining."
    ]
    assert errors(admin_login()).pop().endswith(" 2 attempts remaining.")


def test_the_fourth_failure_locks_out_with_429(admin_login, admin_user):
    for _ in range(3):
        admin_login()
    response = admin_login()
    assert response.status_code == 429
    assert response["Retry-After"] == "1200"
    assert "Too many failed login attempts" in response.content.decode()


def test_a_locked_out_client_is_refused_before_the_view_runs(
    admin_login, admin_user, hasher_calls
):
    for _ in range(4):
        admin_login()
    before = hasher_calls()

    response = admin_login(password=PASSWORD)

    assert response.status_code == 429
    assert response["Retry-After"]
    assert LOCKOUT_TEMPLATE in templates(response)
    assert LOGIN_TEMPLATE not in templates(response)
    assert hasher_calls() == before  # no password was hashed or checked
    # Another address still signs in.
    assert admin_login(password=PASSWORD, ip="198.51.100.9").status_code == 302


def test_the_right_password_signs_a_staff_account_in(client, admin_login, admin_user):
    admin_login()
    assert admin_login(password=PASSWORD).status_code == 302
    assert client.get("/django-admin/", REMOTE_ADDR=A).status_code == 200


def test_a_non_staff_password_reads_and_counts_as_a_wrong_one(admin_login, user):
    """Without this, the unchanged count would tell the right password of an
    account that may not use the admin from a wrong one."""
    wrong = admin_login("editor")
    right = admin_login("editor", password=PASSWORD)

    [wrong_error], [right_error] = errors(wrong), errors(right)
    assert wrong_error.endswith(" 3 attempts remaining.")
    assert right_error == wrong_error.replace("3 attempts", "2 attempts")
    admin_login("editor", password=PASSWORD)
    assert admin_login("editor", password=PASSWORD).status_code == 429


def test_counts_are_shared_with_the_wagtail_admin_login(admin_login, login, user):
    admin_login("editor")
    admin_login("editor")
    assert "1 attempt remaining." in login("editor").content.decode()
    assert login("editor").status_code == 429
    assert admin_login("editor", password=PASSWORD).status_code == 429


def test_the_default_admin_site_uses_the_form():
    assert admin.site.login_form is AdminLoginForm


class SiteOwnForm(AdminAuthenticationForm):
    captcha = forms.CharField(required=False)


def test_a_login_form_the_site_chose_is_kept(monkeypatch):
    monkeypatch.setattr(admin.site, "login_form", SiteOwnForm)
    use_on_django_admin()
    assert admin.site.login_form is SiteOwnForm
