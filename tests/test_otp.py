"""Two-factor codes through django-otp's real two-step `LoginView` with the
counted forms (`wagtail_loginlimit.otp`, tests/urls.py) and a real static
device: wrong codes are counted per account (`otp_retries`), a locked second
step ends the half-signed-in session and verifies no code.

django-otp's own throttling of a device is turned off here
(`OTP_STATIC_THROTTLE_FACTOR = 0`) so that only this package's limit is
tried; with it on, both apply."""

from __future__ import annotations

import pytest
from django.contrib.auth import SESSION_KEY, get_user_model
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice

from wagtail_loginlimit import defaults, storage
from wagtail_loginlimit.models import Lockout

A = "203.0.113.7"
B = "198.51.100.9"
OTP_LOGIN = "/otp/login/"
CODE = "314159"
RETRIES = defaults.CODE_ONLY["otp_retries"]


@pytest.fixture(autouse=True)
def _only_this_packages_limit(settings):
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


@pytest.fixture
def device(user):
    device = StaticDevice.objects.create(user=user, name="codes")
    device.token_set.create(token=CODE)
    return device


@pytest.fixture
def verifications(monkeypatch):
    """How many codes django-otp compared."""
    calls = []
    original = StaticDevice.verify_token

    def counting(self, token):
        calls.append(token)
        return original(self, token)

    monkeypatch.setattr(StaticDevice, "verify_token", counting)
    return calls


def half_signed_in() -> Client:
    """A browser past the password step, not past the code (django-otp's
    view then asks for the code only)."""
    browser = Client()
    user = get_user_model().objects.get(username="editor")
    browser.force_login(user, "django.contrib.auth.backends.ModelBackend")
    return browser


def code(browser: Client, device, token: str, ip: str = A):
    return browser.post(
        OTP_LOGIN,
        {"otp_device": device.persistent_id, "otp_token": token},
        REMOTE_ADDR=ip,
    )


def test_a_hundred_wrong_codes_get_the_budget_then_the_session_ends(
    device, verifications, clock
):
    browser = half_signed_in()
    answers = [code(browser, device, "000000") for _ in range(100)]
    assert len(verifications) == RETRIES
    assert [a.status_code for a in answers[: RETRIES - 1]] == [200] * (RETRIES - 1)
    assert f"{RETRIES - 1} attempts remaining." in answers[0].content.decode()
    assert answers[RETRIES - 1].status_code == 429
    assert answers[RETRIES - 1]["Retry-After"] == "1200"
    # The half-signed-in session is over: the password must be typed again.
    assert SESSION_KEY not in browser.session
    assert all(a.status_code in (200, 429) for a in answers[RETRIES:])
    assert Lockout.objects.get().entry_point == "otp"


def test_a_locked_account_verifies_no_code_from_anywhere(device, verifications, clock):
    browser = half_signed_in()
    for _ in range(RETRIES):
        code(browser, device, "000000")
    # The right code, from another address, after the password again.
    other = half_signed_in()
    response = code(other, device, CODE, ip=B)
    assert response.status_code == 429
    assert len(verifications) == RETRIES
    assert SESSION_KEY not in other.session


def test_wrong_codes_never_cost_a_login_try(device, login, clock):
    browser = half_signed_in()
    for _ in range(RETRIES):
        code(browser, device, "000000")
    response = login("editor")
    assert "3 attempts remaining." in response.content.decode()


def test_the_right_code_signs_in_and_forgives(device, clock):
    browser = half_signed_in()
    code(browser, device, "000000")
    code(browser, device, "000000")
    response = code(browser, device, CODE)
    assert response.status_code == 302
    otp = [c for c in storage.counters() if c.entry_point == "otp"]
    assert otp == []


def test_the_budget_is_a_code_setting(settings, device, clock):
    settings.WAGTAIL_LOGINLIMIT = {"otp_retries": 2}
    browser = half_signed_in()
    assert [code(browser, device, "000000").status_code for _ in range(2)] == [
        200,
        429,
    ]
