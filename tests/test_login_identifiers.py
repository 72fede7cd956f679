"""`identify_account`: what was typed (an email address, the username) is
counted under the account's one key, so typing another identifier buys no
extra tries."""

from __future__ import annotations

import logging

import pytest
from django.core.checks import run_checks

from tests.conftest import PASSWORD
from wagtail_loginlimit.code_settings import CodeSettings
from wagtail_loginlimit.models import Deactivation

BACKENDS = [
    "wagtail_loginlimit.backends.LoginLimitBackend",
    "tests.backends.EmailOrUsernameBackend",
]
IDENTIFY = "tests.backends.identify"


@pytest.fixture
def email_logins(settings):
    settings.AUTHENTICATION_BACKENDS = BACKENDS

    def apply(**values):
        settings.WAGTAIL_LOGINLIMIT = {"identify_account": IDENTIFY, **values}

    apply()
    return apply


def test_email_and_username_share_one_count(email_logins, login, user):
    email_logins(lockout_method="username")
    for n in range(3):
        response = login("Editor@Example.com", ip=f"198.51.100.{n}")
        assert response.status_code == 200
    assert b"1 attempt remaining" in response.content
    # The 4th failure, as the username from yet another address, locks it.
    assert login("editor", ip="198.51.100.9").status_code == 429
    assert login("editor@example.com", PASSWORD, ip="192.0.2.1").status_code == 429
    assert login("editor", PASSWORD, ip="192.0.2.2").status_code == 429


def test_without_identify_account_each_identifier_has_its_own_count(
    settings, login, user
):
    """The gap the setting closes."""
    settings.AUTHENTICATION_BACKENDS = BACKENDS
    settings.WAGTAIL_LOGINLIMIT = {"lockout_method": "username"}
    for n in range(3):
        login("editor@example.com", ip=f"198.51.100.{n}")
    assert login("editor", ip="198.51.100.9").status_code == 200


def test_an_email_login_still_works_and_forgives(email_logins, login, user):
    email_logins(lockout_method="username")
    for _ in range(3):
        login("editor", ip="198.51.100.1")
    assert login("editor@example.com", PASSWORD).status_code == 302
    assert b"3 attempts remaining" in login("editor", ip="198.51.100.1").content


def test_deactivation_counts_both_identifiers(email_logins, login, user):
    email_logins(deactivate_after=1, lockout_method="ip")
    for n in range(3):
        login("editor@example.com", ip=f"198.51.100.{n}")
    user.refresh_from_db()
    assert user.is_active
    login("editor", ip="198.51.100.9")
    user.refresh_from_db()
    assert not user.is_active
    assert Deactivation.objects.get().failure_count == 4


def test_unknown_addresses_are_counted_as_typed(email_logins, login, db):
    email_logins(lockout_method="username")
    for _ in range(2):
        login("ghost@example.com", ip="198.51.100.1")
    assert b"1 attempt remaining" in login("ghost@example.com").content
    assert login("ghost@example.com", ip="198.51.100.2").status_code == 429


def test_a_callable_that_raises_is_logged_and_the_typed_name_counted(
    email_logins, login, user, caplog
):
    email_logins(identify_account="tests.backends.broken", lockout_method="username")
    with caplog.at_level(logging.ERROR, logger="wagtail_loginlimit"):
        responses = [
            login("editor@example.com", ip=f"198.51.100.{n}") for n in range(4)
        ]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert any("identify_account" in r.getMessage() for r in caplog.records)
    assert login("editor", PASSWORD).status_code == 302


@pytest.mark.parametrize(
    "value",
    [
        "tests.backends.missing",
        "no_such_module.identify",
        "tests.backends.NOT_CALLABLE",
        42,
    ],
)
def test_a_bad_path_is_check_e001_and_never_a_500(settings, login, user, value):
    settings.WAGTAIL_LOGINLIMIT = {"identify_account": value}
    assert "identify_account" in CodeSettings(settings.WAGTAIL_LOGINLIMIT).errors
    errors = [m for m in run_checks() if m.id == "wagtail_loginlimit.E001"]
    assert len(errors) == 1 and "identify_account" in errors[0].msg
    assert login("editor").status_code == 200
    assert login("editor", PASSWORD).status_code == 302


def test_empty_means_off():
    assert CodeSettings({"identify_account": ""}).values["identify_account"] is None
    assert CodeSettings({"identify_account": None}).values["identify_account"] is None
