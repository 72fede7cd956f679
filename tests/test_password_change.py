"""The old-password check of a password change is counted per account, through
the real views (Django's PasswordChangeView, Wagtail's account page): refused
with 429 and Retry-After without hashing while locked out."""

import pytest
from django.contrib.auth import get_user_model

from tests.conftest import PASSWORD

IP = "198.51.100.40"
SITE = "/accounts/password_change/"
WAGTAIL = "/admin/account/"
NEW = "a new and long enough passphrase 42"  # noqa: S105


def change(client, url, old="wrong", ip=IP):
    if url == WAGTAIL:
        data = {
            "password-old_password": old,
            "password-new_password1": NEW,
            "password-new_password2": NEW,
            "name_email-first_name": "Ed",
            "name_email-last_name": "Itor",
            "name_email-email": "editor@example.com",
            "locale-preferred_language": "en",
            "locale-current_time_zone": "",
            "theme-theme": "system",
            "theme-density": "default",
            "theme-contrast": "system",
            "theme-keyboard_shortcuts": "on",
        }
    else:
        data = {"old_password": old, "new_password1": NEW, "new_password2": NEW}
    return client.post(url, data, REMOTE_ADDR=ip)


@pytest.fixture
def signed_in(client, admin_user):
    client.force_login(admin_user, "django.contrib.auth.backends.ModelBackend")
    return admin_user


@pytest.fixture(params=[SITE, WAGTAIL])
def url(request):
    return request.param


def test_a_hundred_guesses_hash_four_times_then_429(
    client, signed_in, url, hasher_calls, clock
):
    hashed_by = []
    answers = []
    for _ in range(100):
        before = hasher_calls()
        answers.append(change(client, url))
        hashed_by.append(hasher_calls() - before)
    checked = [n for n in hashed_by if n]
    assert len(checked) == 4  # allowed_retries requests checked the old password
    assert [a.status_code for a in answers[:3]] == [200, 200, 200]
    assert all(a.status_code == 429 for a in answers[3:])
    assert answers[-1]["Retry-After"] == "1200"
    # The right old password is refused too, and nothing is hashed.
    before = hasher_calls()
    assert change(client, url, old=PASSWORD).status_code == 429
    assert hasher_calls() == before
    signed_in.refresh_from_db()
    assert signed_in.check_password(PASSWORD)


def test_the_form_says_how_many_attempts_remain(client, signed_in, url):
    assert b"3 attempts remaining." in change(client, url).content
    assert b"2 attempts remaining." in change(client, url).content


def test_counted_per_account_whatever_the_address(client, signed_in, url):
    for number in range(4):
        change(client, url, ip=f"198.51.100.{50 + number}")
    assert change(client, url, ip="203.0.113.99").status_code == 429


def test_the_right_old_password_changes_it_and_forgives(client, signed_in, url):
    change(client, url)
    assert change(client, url, old=PASSWORD).status_code == 302
    signed_in.refresh_from_db()
    assert signed_in.check_password(NEW)
    assert b"3 attempts remaining." in change(client, url, old="nope").content


def test_logins_of_the_account_keep_their_tries(client, signed_in, url, login):
    for _ in range(4):
        change(client, url)
    client.logout()
    response = login("admin", password=PASSWORD, ip=IP)
    assert response.status_code == 302


def test_an_account_page_save_without_a_new_password_checks_nothing(
    client, signed_in, hasher_calls
):
    before = hasher_calls()
    for _ in range(6):
        response = client.post(
            WAGTAIL,
            {"password-old_password": "wrong", "name_email-email": "e@example.com"},
            REMOTE_ADDR=IP,
        )
        assert response.status_code != 429
    assert hasher_calls() == before


def test_other_accounts_are_not_refused(client, signed_in, url, db):
    for _ in range(4):
        change(client, url)
    other = get_user_model().objects.create_superuser("other", password=PASSWORD)
    client.force_login(other, "django.contrib.auth.backends.ModelBackend")
    assert change(client, url).status_code == 200
