"""The owner's way back (PRODUCT.md): the lockout page offers "Email me a
sign-in link"; the link makes the browser that opens it a known device, and
so does completing a password reset. Through the real login views, Django's
locmem email backend and the tasks framework (run inside the request by the
test settings' ImmediateBackend, or queued by a DummyBackend where the test
says so)."""

import io
import re
from datetime import timedelta
from functools import partial

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from tests import helpers
from tests.conftest import PASSWORD
from tests.helpers import lock_out_by_name
from wagtail_loginlimit import known_devices, password_reset, sign_in_links
from wagtail_loginlimit.models import KnownDevice, SignInLink

LOGIN = "/admin/login/"
HOME = "198.51.100.80"
ASK = sign_in_links.ASK_FIELD


@pytest.fixture
def owner(db):
    return get_user_model().objects.create_superuser(
        username="chief", email="chief@example.com", password=PASSWORD
    )


@pytest.fixture(autouse=True)
def _username_method(settings):
    # The attack this answers: a name locked out from anywhere.
    settings.WAGTAIL_LOGINLIMIT = {"lockout_method": "username"}


post = partial(helpers.post, ip=HOME)


def ask(browser, name="chief", ip=HOME, path=LOGIN):
    return browser.post(path, {ASK: name}, REMOTE_ADDR=ip)


def link_in(message) -> str:
    [url] = re.findall(r"https?://\S+", message.body)
    return url


def test_the_lockout_page_offers_a_sign_in_link(owner):
    lock_out_by_name("chief")
    page = post(Client(), "chief", PASSWORD)
    assert page.status_code == 429
    html = page.content.decode()
    assert "Email me a sign-in link" in html
    assert f'name="{ASK}"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    # The typed name is not echoed (test_login_messages.py): the person types it.
    assert "chief" not in html


def test_the_emailed_link_makes_the_browser_known_and_the_owner_signs_in(owner):
    lock_out_by_name("chief")
    browser = Client()
    answer = ask(browser)
    assert answer.status_code == 200
    assert "a sign-in link is on its way" in answer.content.decode()
    [message] = mail.outbox
    assert message.to == ["chief@example.com"]
    url = link_in(message)
    assert url.startswith("http://testserver/admin/login/?loginlimit_link=")
    html = message.alternatives[0][0]
    assert url.replace("&", "&amp;") in html or url in html

    # Opening the link shows a button: a mail scanner that fetches it uses
    # nothing up.
    shown = browser.get(url.removeprefix("http://testserver"), REMOTE_ADDR=HOME)
    assert shown.status_code == 200
    assert "Sign in as “chief” from this browser?" in shown.content.decode()
    assert KnownDevice.objects.count() == 0
    token = shown.context["token"]
    used = browser.post(LOGIN, {sign_in_links.TOKEN_FIELD: token}, REMOTE_ADDR=HOME)
    assert used.status_code == 200
    assert "This browser is now known" in used.content.decode()
    assert known_devices.COOKIE_NAME in used.cookies

    assert post(browser, "chief", PASSWORD).status_code == 302
    # Nobody else's lockout was lifted.
    assert post(Client(), "chief", PASSWORD, ip="192.0.2.90").status_code == 429


def test_a_link_works_once(owner):
    browser = Client()
    ask(browser)
    token = re.search(r"loginlimit_link=(\S+)", mail.outbox[0].body).group(1)
    first = browser.post(LOGIN, {sign_in_links.TOKEN_FIELD: token}, REMOTE_ADDR=HOME)
    assert first.status_code == 200
    again = Client().post(
        LOGIN, {sign_in_links.TOKEN_FIELD: token}, REMOTE_ADDR="192.0.2.91"
    )
    assert again.status_code == 400
    assert "expired or was used already" in again.content.decode()
    assert KnownDevice.objects.count() == 1


def test_a_link_expires_after_15_minutes(owner, clock):
    ask(Client())
    token = re.search(r"loginlimit_link=(\S+)", mail.outbox[0].body).group(1)
    clock.shift(timedelta(minutes=16))
    late = Client().post(LOGIN, {sign_in_links.TOKEN_FIELD: token}, REMOTE_ADDR=HOME)
    assert late.status_code == 400
    assert not KnownDevice.objects.exists()


@pytest.mark.parametrize("forged", ["", "x", "abc:def", "a" * 5000])
def test_a_forged_link_is_refused_without_a_500(owner, forged):
    browser = Client()
    assert browser.get(LOGIN, {sign_in_links.TOKEN_FIELD: forged}).status_code == 400
    response = browser.post(LOGIN, {sign_in_links.TOKEN_FIELD: forged})
    assert response.status_code == 400
    assert not KnownDevice.objects.exists()


def test_the_answer_is_the_same_whether_or_not_the_account_exists(owner, settings):
    """Same page, same status, same queries on the request path (the task
    does the look-up, queued here as a worker's queue would keep it)."""
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}
    }
    password_reset.task_backends["default"].clear()
    ask(Client(), "warm-up", ip="192.0.2.99")  # caches filled once per process
    pages, queries = [], []
    for n, name in enumerate(("chief", "nobody")):
        with CaptureQueriesContext(connection) as captured:
            pages.append(ask(Client(), name, ip=f"192.0.2.{100 + n}"))
        queries.append(len(captured))
    assert [p.status_code for p in pages] == [200, 200]
    texts = [
        re.sub(r'value="[^"]+"', "", p.content.decode()).replace(name, "NAME")
        for p, name in zip(pages, ("chief", "nobody"), strict=True)
    ]
    assert texts[0] == texts[1]
    assert queries[0] == queries[1]
    assert mail.outbox == []


def test_requests_are_limited_per_ip_and_per_account(owner, clock):
    answers = [ask(Client(), ip=f"192.0.2.{n + 1}").status_code for n in range(5)]
    assert answers == [200, 200, 200, 429, 429]
    assert len(mail.outbox) == 3
    one_ip = Client()
    answers = [ask(one_ip, f"name{n}", ip="192.0.2.50").status_code for n in range(5)]
    assert answers == [200, 200, 200, 429, 429]
    clock.shift(timedelta(hours=1, seconds=1))
    assert ask(Client(), ip="192.0.2.99").status_code == 200


def test_asking_for_links_costs_no_login_try(owner):
    browser = Client()
    for n in range(3):
        ask(browser, f"name{n}")
    page = post(browser, "chief")
    assert "3 attempts remaining" in page.content.decode()


def test_an_empty_name_gets_a_clear_message(db):
    response = ask(Client(), "")
    assert response.status_code == 400
    assert "Type the username" in response.content.decode()


def test_the_request_needs_the_csrf_token(owner):
    browser = Client(enforce_csrf_checks=True)
    assert ask(browser).status_code == 403
    assert mail.outbox == []


def test_an_account_an_admin_made_inactive_gets_no_link(owner):
    owner.is_active = False
    owner.save()
    assert ask(Client()).status_code == 200
    assert mail.outbox == []


def test_the_email_is_in_the_language_of_the_page(owner):
    Client().post(LOGIN, {ASK: "chief"}, REMOTE_ADDR=HOME, HTTP_ACCEPT_LANGUAGE="de")
    [message] = mail.outbox
    assert "Anmeldelink" in message.subject


def test_the_link_uses_wagtailadmin_base_url_not_the_host_header(owner, settings):
    settings.WAGTAILADMIN_BASE_URL = "https://cms.example.com"
    settings.ALLOWED_HOSTS = ["*"]
    Client().post(LOGIN, {ASK: "chief"}, REMOTE_ADDR=HOME, HTTP_HOST="evil.example")
    assert link_in(mail.outbox[0]).startswith("https://cms.example.com/admin/login/?")


def test_the_django_admin_login_offers_and_takes_links_too(owner):
    lock_out_by_name("chief")
    page = Client().post(
        "/django-admin/login/",
        {"username": "chief", "password": PASSWORD},
        REMOTE_ADDR=HOME,
    )
    assert page.status_code == 429
    assert "Email me a sign-in link" in page.content.decode()
    ask(Client(), path="/django-admin/login/")
    assert "/django-admin/login/?loginlimit_link=" in link_in(mail.outbox[0])


def test_loginlimit_purge_deletes_old_links(owner, clock):
    from django.core.management import call_command

    ask(Client())
    clock.shift(timedelta(days=2))
    call_command("loginlimit_purge", stdout=io.StringIO())
    assert not SignInLink.objects.exists()


# --- a completed password reset ---


def reset_link(user):
    token = PasswordResetTokenGenerator().make_token(user)
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return f"/admin/password_reset/confirm/{uid}/{token}/"


def test_completing_a_password_reset_makes_the_browser_known(owner):
    """The attack of the issue: the name locked out, a reset did not help
    (the new password still got 429). Now the browser that reset it gets in."""
    lock_out_by_name("chief")
    browser = Client()
    form = browser.get(reset_link(owner), REMOTE_ADDR=HOME, follow=True)
    assert form.status_code == 200
    done = browser.post(
        form.redirect_chain[-1][0],
        {
            "new_password1": "a brand new passphrase",
            "new_password2": "a brand new passphrase",
        },
        REMOTE_ADDR=HOME,
    )
    assert done.status_code == 302
    assert known_devices.COOKIE_NAME in done.cookies
    assert post(browser, "chief", "a brand new passphrase").status_code == 302
    stranger = post(Client(), "chief", "a brand new passphrase", ip="192.0.2.92")
    assert stranger.status_code == 429


def test_a_failed_reset_form_makes_nothing_known(owner):
    browser = Client()
    form = browser.get(reset_link(owner), REMOTE_ADDR=HOME, follow=True)
    response = browser.post(
        form.redirect_chain[-1][0],
        {"new_password1": "one thing", "new_password2": "another"},
        REMOTE_ADDR=HOME,
    )
    assert response.status_code == 200
    assert known_devices.COOKIE_NAME not in response.cookies
    assert not KnownDevice.objects.exists()
