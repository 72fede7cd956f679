"""Wagtail's page and document privacy passwords are counted per client and
restriction, through Wagtail's real views: refused with 429 and Retry-After
before the password is compared, "N attempts remaining" on Wagtail's form."""

import logging
from datetime import timedelta

import pytest
import wagtail.forms
from wagtail.models import (
    Collection,
    CollectionViewRestriction,
    Page,
    PageViewRestriction,
)

from wagtail_loginlimit import storage
from wagtail_loginlimit.models import Lockout

SECRET = "open sesame"  # noqa: S105
IP = "198.51.100.20"


@pytest.fixture
def compares(monkeypatch):
    """How many times Wagtail's form compared a privacy password."""
    calls = []
    original = wagtail.forms.constant_time_compare

    def counting(a, b):
        calls.append(a)
        return original(a, b)

    monkeypatch.setattr(wagtail.forms, "constant_time_compare", counting)
    return calls


@pytest.fixture
def private_page(db):
    page = Page.objects.get(depth=2)
    restriction = PageViewRestriction.objects.create(
        page=page, restriction_type=PageViewRestriction.PASSWORD, password=SECRET
    )
    return page, restriction


@pytest.fixture
def private_collection(db):
    restriction = CollectionViewRestriction.objects.create(
        collection=Collection.get_first_root_node(),
        restriction_type=CollectionViewRestriction.PASSWORD,
        password=SECRET,
    )
    return restriction


def page_url(page, restriction):
    return f"/_util/authenticate_with_password/{restriction.pk}/{page.pk}/"


def document_url(restriction):
    return f"/documents/authenticate_with_password/{restriction.pk}/"


def guess(client, url, password="wrong", ip=IP):
    return client.post(url, {"password": password, "return_url": "/"}, REMOTE_ADDR=ip)


@pytest.fixture(params=["page", "document"])
def door(request, private_page, private_collection):
    if request.param == "page":
        return page_url(*private_page)
    return document_url(private_collection)


def test_a_hundred_guesses_get_four_checks_then_429(client, door, compares, clock):
    answers = [guess(client, door) for _ in range(100)]
    assert len(compares) == 4  # allowed_retries
    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    assert all(a.status_code == 429 for a in answers[3:])
    assert int(answers[-1]["Retry-After"]) == 1200
    # The right password is refused too while locked out, and not compared.
    assert guess(client, door, SECRET).status_code == 429
    assert len(compares) == 4


def test_wagtails_form_says_how_many_attempts_remain(client, door):
    first = guess(client, door)
    assert b"3 attempts remaining." in first.content
    assert b"The password you have entered is not correct" in first.content
    assert b"2 attempts remaining." in guess(client, door).content


def test_the_refusal_page_says_how_long(client, door):
    for _ in range(4):
        last = guess(client, door)
    assert last.status_code == 429
    assert last.templates[0].name == "wagtail_loginlimit/password_refused.html"
    assert "20\xa0minutes" in last.content.decode()
    assert last["Cache-Control"] == "no-store"


def test_the_site_gives_the_refusal_page_its_own_look(
    client, private_page, settings, tmp_path
):
    own = tmp_path / "wagtail_loginlimit"
    own.mkdir()
    (own / "password_refused.html").write_text(
        "<main class=site>{{ message }} ({{ retry_after }} s)</main>"
    )
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    for _ in range(5):
        last = guess(client, page_url(*private_page))
    assert last.status_code == 429
    assert last.content.decode().startswith("<main class=site>Too many failed")


def test_the_right_password_forgives_and_redirects(client, door):
    guess(client, door)
    guess(client, door)
    assert guess(client, door, SECRET).status_code == 302
    assert b"3 attempts remaining." in guess(client, door).content


def test_an_empty_password_is_not_counted(client, door, compares):
    for _ in range(10):
        client.post(door, {"password": "", "return_url": "/"}, REMOTE_ADDR=IP)
    assert compares == []
    assert b"3 attempts remaining." in guess(client, door).content


def test_restrictions_and_logins_are_counted_apart(client, private_page, login, user):
    page, restriction = private_page
    other = PageViewRestriction.objects.create(
        page=page, restriction_type=PageViewRestriction.PASSWORD, password="x"
    )
    for _ in range(4):
        guess(client, page_url(page, restriction))
    assert guess(client, page_url(page, restriction)).status_code == 429
    # Another restriction and the admin login still have every try.
    assert b"3 attempts remaining." in guess(client, page_url(page, other)).content
    response = login("editor", ip=IP)
    assert b"3 attempts remaining." in response.content
    assert (
        login("editor", password="correct horse battery staple", ip=IP).status_code
        == 302
    )


def test_other_clients_are_not_refused(client, door):
    for _ in range(4):
        guess(client, door)
    assert guess(client, door, ip="198.51.100.21").status_code == 200


def test_the_lockout_record_names_the_entry_point(client, private_page):
    page, restriction = private_page
    for _ in range(4):
        guess(client, page_url(page, restriction))
    lockout = Lockout.objects.get()
    assert lockout.entry_point == "page_password"
    assert lockout.username == str(restriction.pk)
    assert {c.entry_point for c in storage.counters()} == {"page_password"}


def test_events_and_log_lines_name_the_entry_point(client, private_page, caplog):
    from wagtail import hooks

    page, restriction = private_page
    seen = []
    with (
        hooks.register_temporarily("loginlimit_insert", seen.append),
        hooks.register_temporarily("loginlimit_block", seen.append),
        caplog.at_level(logging.INFO, logger="wagtail_loginlimit.security"),
    ):
        for _ in range(5):
            guess(client, page_url(page, restriction))
    assert {event.entry_point for event in seen} == {"page_password"}
    assert [event.kind for event in seen] == ["insert"] * 4 + ["block"]
    lines = [record.getMessage() for record in caplog.records]
    assert any(" entry=page_password " in line and "failure" in line for line in lines)
    assert any(" entry=page_password " in line and "lockout" in line for line in lines)
    assert any(" entry=page_password " in line and "refused" in line for line in lines)


def test_the_failure_log_keeps_the_page_not_a_username(client, private_page):
    from axes.models import AccessFailureLog

    page, restriction = private_page
    guess(client, page_url(page, restriction))
    row = AccessFailureLog.objects.get()
    assert row.username is None
    assert row.path_info == page_url(page, restriction)


def test_the_lockout_reports_and_exports_show_the_entry_point(
    client, private_page, admin_user
):
    import csv
    import io

    from django.urls import reverse

    page, restriction = private_page
    for _ in range(4):
        guess(client, page_url(page, restriction))
    client.force_login(admin_user, "django.contrib.auth.backends.ModelBackend")
    report = reverse("wagtail_loginlimit:active_lockouts")
    assert b"Page password" in client.get(report).content
    exported = client.get(report, {"export": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(exported.streaming_content).decode())))
    assert rows[0][-1] == "Entry point"
    assert rows[1][-1] == "page_password"


def test_with_the_progressive_delay_a_guess_too_soon_is_not_compared(
    settings, client, private_page, compares, clock
):
    """The page password follows the login's limits, the progressive delay
    too (tests/test_progressive_delay.py)."""
    settings.WAGTAIL_LOGINLIMIT = {"progressive_delay": True}
    door = page_url(*private_page)
    first = guess(client, door)
    assert (
        "3 attempts remaining. You can try again in 1 second." in first.content.decode()
    )
    early = guess(client, door, SECRET)
    assert early.status_code == 429
    assert early["Retry-After"] == "1"
    assert len(compares) == 1  # the right password was not even compared
    clock.shift(timedelta(seconds=1))
    assert guess(client, door, SECRET).status_code == 302
