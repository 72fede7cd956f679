"""Password reset through the Wagtail admin's real views: requests limited per
IP and per address, the same answer and the same work on the request path
whether or not the address exists (the email goes to a task), invalid or
expired reset links counted per IP."""

import pytest
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from wagtail_loginlimit import password_reset

IP = "198.51.100.60"
RESET = "/admin/password_reset/"
KNOWN = "editor@example.com"
UNKNOWN = "nobody@example.com"


def ask(client, email=KNOWN, ip=IP):
    return client.post(RESET, {"email": email}, REMOTE_ADDR=ip)


@pytest.fixture
def queued(settings):
    """Tasks go to a backend that keeps them (as a worker's queue would)."""
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}
    }
    backend = password_reset.task_backends["default"]
    backend.clear()
    return backend.results


def run(results):
    """What a worker does with the queued tasks; emails sent."""
    for result in results:
        result.task.call(*result.args, **result.kwargs)
    return len(mail.outbox)


def test_a_hundred_requests_send_three_emails_then_429(client, user, clock):
    answers = [ask(client) for _ in range(100)]
    assert len(mail.outbox) == 3  # password_reset_limit
    assert [a.status_code for a in answers[:3]] == [302, 302, 302]
    assert all(a.status_code == 429 for a in answers[3:])
    assert answers[-1]["Retry-After"] == "3600"


def test_an_address_gets_three_emails_per_hour_from_any_number_of_ips(
    client, user, clock
):
    answers = [ask(client, ip=f"198.51.100.{number}") for number in range(1, 51)]
    assert len(mail.outbox) == 3
    assert [a.status_code for a in answers].count(302) == 3
    # After the window, three more.
    from datetime import timedelta

    clock.shift(timedelta(hours=1, seconds=1))
    assert ask(client, ip="203.0.113.1").status_code == 302
    assert len(mail.outbox) == 4


def test_one_ip_cannot_email_many_addresses(client, user, clock):
    statuses = [
        ask(client, email=f"victim{n}@example.com").status_code for n in range(10)
    ]
    assert statuses == [302] * 3 + [429] * 7


def test_known_and_unknown_addresses_answer_alike_with_the_same_work(
    client, user, queued
):
    from wagtail_loginlimit.models import LoginLimitSettings

    LoginLimitSettings.load()  # the settings row exists, as on any live site
    with CaptureQueriesContext(connection) as known_queries:
        known = ask(client, KNOWN, ip="198.51.100.61")
    with CaptureQueriesContext(connection) as unknown_queries:
        unknown = ask(client, UNKNOWN, ip="198.51.100.62")
    assert (known.status_code, known["Location"]) == (
        unknown.status_code,
        unknown["Location"],
    )
    # The request path does the same work: the same queries, one task each,
    # no account looked up, no email sent.
    assert len(known_queries) == len(unknown_queries)
    assert len(queued) == 2
    assert mail.outbox == []
    # The worker sends the one email there is.
    assert run(queued) == 1
    assert mail.outbox[0].to == [KNOWN]
    assert "/admin/password_reset/confirm/" in mail.outbox[0].body


def test_unknown_addresses_count_like_known_ones(client, user, clock):
    for _ in range(3):
        assert ask(client, UNKNOWN).status_code == 302
    assert ask(client, UNKNOWN).status_code == 429


def test_an_invalid_address_is_not_counted(client, db):
    for _ in range(5):
        assert ask(client, "not an address").status_code == 200
    assert ask(client, UNKNOWN).status_code == 302


def test_logins_and_reset_requests_are_counted_apart(client, user, login, clock):
    for _ in range(4):
        login("editor", ip=IP)
    assert login("editor", ip=IP).status_code == 429
    assert ask(client).status_code == 302


# --- reset links ---


@pytest.fixture
def token_checks(monkeypatch):
    calls = []
    original = PasswordResetTokenGenerator.check_token

    def counting(self, user, token):
        calls.append(token)
        return original(self, user, token)

    monkeypatch.setattr(PasswordResetTokenGenerator, "check_token", counting)
    return calls


def link(user, token):
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return f"/admin/password_reset/confirm/{uid}/{token}/"


def test_a_hundred_invalid_links_get_four_checks_then_429(
    client, user, token_checks, clock
):
    answers = [client.get(link(user, f"bad-{n}"), REMOTE_ADDR=IP) for n in range(100)]
    assert len(token_checks) == 4
    assert [a.status_code for a in answers[:4]] == [200] * 4
    assert all(a.status_code == 429 for a in answers[4:])
    assert answers[-1]["Retry-After"] == "1200"


def test_a_valid_link_still_works_and_is_not_counted(client, user, clock):
    token = PasswordResetTokenGenerator().make_token(user)
    for _ in range(3):
        client.get(link(user, "bad"), REMOTE_ADDR=IP)
    response = client.get(link(user, token), REMOTE_ADDR=IP, follow=True)
    assert response.status_code == 200
    assert response.context["validlink"] is True
    # Not counted: the next invalid link is the 4th failure, not the 5th.
    assert client.get(link(user, "bad"), REMOTE_ADDR=IP).status_code == 200
    assert client.get(link(user, "bad"), REMOTE_ADDR=IP).status_code == 429
