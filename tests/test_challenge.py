"""The challenge (`captcha_after`): after N failures of a client its next
logins must first pass ALTCHA's proof of work. Through the real login pages;
the answers are computed with the `altcha` library's own solver, as a
browser's widget would (the browser test solves it in Chromium)."""

import base64
import html
import json
import re

import altcha
import pytest
from django.test import Client

from tests.conftest import PASSWORD
from wagtail_loginlimit import challenge

IP = "203.0.113.40"
WAGTAIL = "/admin/login/"
DJANGO_ADMIN = "/django-admin/login/"
FIELD = challenge.FIELD_NAME


@pytest.fixture(autouse=True)
def _challenge_after_two(settings):
    # A cheap proof of work: the test solves it in Python.
    settings.WAGTAIL_LOGINLIMIT = {"captcha_after": 2, "challenge_cost": 10}


def post(browser, username="editor", password="wrong", path=WAGTAIL, **extra):
    return browser.post(
        path, {"username": username, "password": password, **extra}, REMOTE_ADDR=IP
    )


def challenge_on(page) -> dict | None:
    match = re.search(r'<altcha-widget[^>]* challenge="([^"]+)"', page.content.decode())
    return json.loads(html.unescape(match.group(1))) if match else None


def solved(page) -> str:
    """The widget's answer to the page's challenge."""
    data = challenge_on(page)
    assert data is not None, "no challenge on the page"
    found = altcha.Challenge.from_dict(data)
    solution = altcha.solve_challenge(found)
    return altcha.Payload(found, solution).to_base64()


def test_no_challenge_before_captcha_after_failures(user, hasher_calls):
    browser = Client()
    page = browser.get(WAGTAIL, REMOTE_ADDR=IP)
    assert challenge_on(page) is None
    first = post(browser)
    assert challenge_on(first) is None
    assert "3 attempts remaining" in first.content.decode()


def test_the_failure_that_reaches_captcha_after_shows_the_challenge_at_once(user):
    browser = Client()
    post(browser)
    second = post(browser)
    assert "2 attempts remaining" in second.content.decode()
    assert challenge_on(second) is not None
    assert 'src="/static/wagtail_loginlimit/vendor/altcha/altcha.i18n.min.js"' in (
        second.content.decode()
    )
    # And on the next visit of the page (the address is known without a name).
    assert challenge_on(browser.get(WAGTAIL, REMOTE_ADDR=IP)) is not None


def test_a_try_without_the_challenge_checks_no_password_and_counts_nothing(
    user, hasher_calls
):
    browser = Client()
    post(browser)
    post(browser)
    checked = hasher_calls()
    page = post(browser, password=PASSWORD)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Confirm that you are a person" in text
    assert hasher_calls() == checked, "a password was checked without the challenge"
    # Nothing counted: the solved try still has its two tries left.
    answer = post(browser, **{FIELD: solved(page)})
    assert "1 attempt remaining" in answer.content.decode()


def test_a_solved_challenge_lets_the_right_password_in(user):
    browser = Client()
    post(browser)
    page = post(browser)
    assert post(browser, password=PASSWORD, **{FIELD: solved(page)}).status_code == 302


def test_an_answer_works_once(user, hasher_calls):
    browser = Client()
    post(browser)
    page = post(browser)
    answer = solved(page)
    post(browser, **{FIELD: answer})
    checked = hasher_calls()
    replay = post(browser, password=PASSWORD, **{FIELD: answer})
    assert "did not pass or has expired" in replay.content.decode()
    assert hasher_calls() == checked


@pytest.mark.parametrize(
    "forged",
    [
        "x",
        base64.b64encode(b'{"challenge": {}, "solution": {}}').decode(),
        base64.b64encode(json.dumps({"a": [1] * 10}).encode()).decode(),
        "A" * 5000,
    ],
)
def test_a_forged_answer_is_refused_without_a_500(user, forged, hasher_calls):
    browser = Client()
    post(browser)
    post(browser)
    checked = hasher_calls()
    page = post(browser, password=PASSWORD, **{FIELD: forged})
    assert page.status_code == 200
    assert "did not pass or has expired" in page.content.decode()
    assert hasher_calls() == checked


def test_an_answer_to_another_sites_challenge_is_refused(user, hasher_calls):
    """Signed with another key: a solver cannot make its own challenges."""
    browser = Client()
    post(browser)
    post(browser)
    own = altcha.create_challenge("PBKDF2/SHA-256", 10, hmac_secret="not ours")
    answer = altcha.Payload(own, altcha.solve_challenge(own)).to_base64()
    checked = hasher_calls()
    page = post(browser, password=PASSWORD, **{FIELD: answer})
    assert "did not pass or has expired" in page.content.decode()
    assert hasher_calls() == checked


def test_an_answer_expires_after_10_minutes(user, clock):
    from datetime import timedelta

    browser = Client()
    post(browser)
    page = post(browser)
    answer = solved(page)
    clock.shift(timedelta(minutes=11))
    late = post(browser, password=PASSWORD, **{FIELD: answer})
    assert "did not pass or has expired" in late.content.decode()


def test_the_django_admin_login_shows_and_checks_the_challenge(admin_user):
    browser = Client()
    post(browser, "admin", path=DJANGO_ADMIN)
    page = post(browser, "admin", path=DJANGO_ADMIN)
    assert challenge_on(page) is not None
    refused = post(browser, "admin", PASSWORD, path=DJANGO_ADMIN)
    assert "Confirm that you are a person" in refused.content.decode()
    done = post(browser, "admin", PASSWORD, path=DJANGO_ADMIN, **{FIELD: solved(page)})
    assert done.status_code == 302


def test_a_login_form_without_the_field_is_refused_by_the_backend(
    user, hasher_calls, settings
):
    """A `LoginView` whose form has no challenge field (not the mixin): the
    backend refuses the due attempt, checks no password, counts nothing."""
    browser = Client()
    post(browser, path="/plain-login/")
    post(browser, path="/plain-login/")
    checked = hasher_calls()
    page = post(browser, password=PASSWORD, path="/plain-login/")
    assert page.status_code == 200
    assert hasher_calls() == checked
    # Still two tries on the count: the Wagtail form says so once solved.
    wagtail = post(browser)
    assert "Confirm that you are a person" in wagtail.content.decode()
    answered = post(browser, **{FIELD: solved(wagtail)})
    assert "1 attempt remaining" in answered.content.decode()


def test_the_last_try_before_the_lockout_is_no_way_around_the_challenge(
    settings, user, hasher_calls
):
    """The backend's own reservation of the last try must not make the
    challenge look "not due" (as if the try were refused anyway)."""
    settings.WAGTAIL_LOGINLIMIT = {
        "captcha_after": 2,
        "challenge_cost": 10,
        "allowed_retries": 3,
    }
    browser = Client()
    for _ in range(2):  # the challenge is due, and one try is left
        post(browser, path="/plain-login/")
    checked = hasher_calls()
    page = post(browser, password=PASSWORD, path="/plain-login/")
    assert page.status_code == 200, "signed in without the challenge"
    assert hasher_calls() == checked


def test_a_form_that_checks_twice_is_asked_again_after_its_first_failure(
    user, hasher_calls
):
    """A form that retries with the case swapped (caps lock): its first check
    fails and makes the challenge due, so its second is refused unchecked."""
    browser = Client()
    post(browser)  # 1 failure: not due yet
    one_check = hasher_calls()
    page = post(browser, password=PASSWORD.swapcase(), path="/caps-lock-login/")
    assert page.status_code == 200, "signed in without the challenge"
    assert hasher_calls() == 2 * one_check, "only the first password was checked"


def test_captcha_after_0_never_asks(settings, user):
    settings.WAGTAIL_LOGINLIMIT = {"captcha_after": 0}
    browser = Client()
    for _ in range(3):
        page = post(browser)
    assert challenge_on(page) is None
    assert "1 attempt remaining" in page.content.decode()


def test_a_whitelisted_address_is_never_asked(settings, user):
    settings.WAGTAIL_LOGINLIMIT = {"captcha_after": 1, "whitelist": [IP]}
    browser = Client()
    post(browser)
    assert challenge_on(post(browser)) is None


def test_the_challenge_follows_the_client_not_the_browser(user):
    """Under `ip` a new browser from the same address is asked too."""
    post(Client())
    post(Client())
    assert challenge_on(Client().get(WAGTAIL, REMOTE_ADDR=IP)) is not None
    assert challenge_on(Client().get(WAGTAIL, REMOTE_ADDR="192.0.2.1")) is None


def test_another_field_can_be_named(settings, user):
    settings.WAGTAIL_LOGINLIMIT = {
        "captcha_after": 1,
        "challenge_field": "tests.challenge_fields.AnswerField",
    }
    browser = Client()
    page = post(browser)
    assert 'name="loginlimit_challenge"' in page.content.decode()
    assert "What is 2 + 2?" in page.content.decode()
    refused = post(browser, password=PASSWORD, **{FIELD: "5"})
    assert refused.status_code == 200
    assert post(browser, password=PASSWORD, **{FIELD: "4"}).status_code == 302


def test_a_challenge_field_that_is_no_field_is_an_error_and_altcha_stays(
    settings, user
):
    from django.core import checks

    settings.WAGTAIL_LOGINLIMIT = {
        "captcha_after": 1,
        "challenge_cost": 10,
        "challenge_field": "tests.challenge_fields.not_a_field",
    }
    errors = [e.id for e in checks.run_checks()]
    assert "wagtail_loginlimit.E022" in errors
    browser = Client()
    page = post(browser)
    assert page.status_code == 200
    assert challenge_on(page) is not None
