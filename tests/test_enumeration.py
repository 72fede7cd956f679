"""No user enumeration: whether an account exists never shows in a login response.

For every lockout method, an attacker who tries a known username and one who
tries an unknown username see the same status code, the same page and the same
headers, on every failure, on the failure that locks them out, and on a refused
attempt during the lockout (even when that attempt carries the right password).

Only what differs by construction is taken out before comparing: the CSRF token
(random per response), the `Date` header, cookie values, and the username the
person typed, which the login form shows back to them. The two usernames have the
same length and the two attackers IPs of the same length, so even
`Content-Length` must match.

(The time a refused attempt costs is measured in the benchmarks, not here.)
"""

from __future__ import annotations

import difflib
import re
from datetime import UTC, datetime

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from tests.conftest import PASSWORD
from tests.hashers import CountingHasher
from wagtail_loginlimit.clients import METHODS

KNOWN = "alice.known"
UNKNOWN = "zed.unknown"
assert len(KNOWN) == len(UNKNOWN)

# Same length, so that nothing but existence can change the response size.
KNOWN_IP = "203.0.113.10"
UNKNOWN_IP = "203.0.113.20"

STEPS = ("1st failure", "2nd failure", "3rd failure", "lockout", "refused")
LOGIN_PAGES = ("/admin/login/", "/accounts/login/")

# Where Django and Wagtail put the (per-response, masked) CSRF token.
_CSRF_TOKEN = re.compile(
    r'name="csrfmiddlewaretoken" value="([^"]+)"|"CSRF_TOKEN": "([^"]+)"'
)
_IGNORED_HEADERS = {"date", "set-cookie"}


@pytest.fixture
def known_user(db):
    return get_user_model().objects.create_user(
        username=KNOWN, email="alice@example.com", password=PASSWORD
    )


@pytest.fixture
def frozen(time_machine):
    # Identical "try again in …" texts and Retry-After values for both flows.
    time_machine.move_to(datetime(2025, 3, 1, 12, 0, tzinfo=UTC), tick=False)


def normalized(response, username: str) -> dict:
    """What an attacker learns from a response, minus per-response randomness."""
    body = response.content.decode()
    for match in _CSRF_TOKEN.finditer(body):
        body = body.replace(match.group(1) or match.group(2), "<csrf>")
    body = body.replace(username, "<username>")
    headers = {
        name.lower(): value
        for name, value in response.headers.items()
        if name.lower() not in _IGNORED_HEADERS
    }
    cookies = sorted(
        (name, {key: morsel[key] for key in morsel if key != "expires"})
        for name, morsel in response.cookies.items()
    )
    return {
        "status": response.status_code,
        "headers": headers,
        "cookies": repr(cookies),
        "body": body,
    }


def assert_same(known: dict, unknown: dict, where: str) -> None:
    """Equal responses, or a readable diff of what gives the account away."""
    for part in ("status", "headers", "cookies"):
        assert known[part] == unknown[part], f"{where}: {part} differs"
    diff = "\n".join(
        difflib.unified_diff(
            known["body"].splitlines(),
            unknown["body"].splitlines(),
            "known",
            "unknown",
            lineterm="",
        )
    )
    assert not diff, f"{where}: body differs\n{diff}"


def attack(path: str, username: str, ip: str, **extra) -> list:
    """Four wrong passwords (the default allowed_retries), then the right one
    while locked out; each from a fresh browser."""
    browser = Client()
    responses = [
        browser.post(
            path, {"username": username, "password": "wrong"}, REMOTE_ADDR=ip, **extra
        )
        for _ in range(4)
    ]
    checks = CountingHasher.calls
    responses.append(
        browser.post(
            path, {"username": username, "password": PASSWORD}, REMOTE_ADDR=ip, **extra
        )
    )
    # The refused attempt never reached the password check.
    assert CountingHasher.calls == checks
    return [normalized(response, username) for response in responses]


@pytest.mark.parametrize("path", LOGIN_PAGES)
@pytest.mark.parametrize("method", METHODS)
def test_known_and_unknown_usernames_get_the_same_responses(
    settings, known_user, frozen, method, path
):
    settings.WAGTAIL_LOGINLIMIT = {"lockout_method": method}

    known = attack(path, KNOWN, KNOWN_IP)
    unknown = attack(path, UNKNOWN, UNKNOWN_IP)

    # The flows really went through failures, a lockout and a refusal.
    assert [step["status"] for step in known] == [200, 200, 200, 429, 429]
    assert "3 attempts remaining" in known[0]["body"]
    assert known[3]["headers"]["retry-after"] == "1200"
    for step, seen_known, seen_unknown in zip(STEPS, known, unknown, strict=True):
        assert_same(seen_known, seen_unknown, f"{method}, {step}")


@pytest.mark.parametrize("method", METHODS)
def test_json_lockout_responses_are_the_same(settings, known_user, frozen, method):
    """API clients that ask for JSON get the lockout as JSON: the same for both."""
    settings.WAGTAIL_LOGINLIMIT = {"lockout_method": method}
    accept = {"HTTP_ACCEPT": "application/json"}

    known = attack("/admin/login/", KNOWN, KNOWN_IP, **accept)
    unknown = attack("/admin/login/", UNKNOWN, UNKNOWN_IP, **accept)

    assert known[3]["headers"]["content-type"] == "application/json"
    assert_same(known[3], unknown[3], f"{method}, lockout")
    assert_same(known[4], unknown[4], f"{method}, refused")


def test_an_inactive_account_looks_like_an_unknown_one(settings, known_user, frozen):
    """A deactivated account must not be told apart either (Django's ModelBackend
    refuses it even with the right password)."""
    known_user.is_active = False
    known_user.save()
    settings.WAGTAIL_LOGINLIMIT = {"lockout_method": "username"}

    known = attack("/admin/login/", KNOWN, KNOWN_IP)
    unknown = attack("/admin/login/", UNKNOWN, UNKNOWN_IP)

    for step, seen_known, seen_unknown in zip(STEPS, known, unknown, strict=True):
        assert_same(seen_known, seen_unknown, step)
