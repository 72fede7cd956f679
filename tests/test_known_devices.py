"""Known devices (PRODUCT.md, "Nobody gets around the limits"): a browser that
signed in to an account gets a signed cookie for it; lockouts by username and
deactivation never block it, and it is locked out on its own.

The attack these tests replay: under `username` or `ip_or_username`, 16
requests from anywhere kept the admin out for 24 hours. Each browser here is a
Django test `Client` of its own, keeping its cookies as a browser does."""

import hashlib
import io
from datetime import timedelta
from functools import partial

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils.http import urlencode
from wagtail.models import ModelLogEntry

from tests import helpers
from tests.conftest import PASSWORD
from tests.helpers import lock_out_by_name
from wagtail_loginlimit import known_devices
from wagtail_loginlimit.models import Deactivation, KnownDevice

COOKIE = known_devices.COOKIE_NAME
HOME = "203.0.113.7"  # the owner's address
LOGIN = "/admin/login/"


@pytest.fixture
def owner(db):
    return get_user_model().objects.create_superuser(
        username="chief", email="chief@example.com", password=PASSWORD
    )


post = partial(helpers.post, ip=HOME)


def signed_in_browser(username: str = "chief", ip: str = HOME) -> Client:
    """A browser that has signed in once (and signed out again)."""
    browser = Client()
    response = post(browser, username, PASSWORD, ip=ip)
    assert response.status_code == 302, "the sign-in itself failed"
    assert COOKIE in response.cookies
    browser.post("/admin/logout/", REMOTE_ADDR=ip)
    return browser


def test_a_login_gives_the_browser_a_signed_httponly_cookie_with_nothing_personal(
    owner,
):
    response = post(Client(), "chief", PASSWORD)
    cookie = response.cookies[COOKIE]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert not cookie["secure"], "plain HTTP: a Secure cookie would not come back"
    assert int(cookie["max-age"]) == 90 * 24 * 3600
    # Signed (value:timestamp:signature), and the value is the random token
    # whose hash is stored: no name, no address, no id.
    token, _, _ = cookie.value.split(":")
    for personal in ("chief", "example.com"):
        assert personal not in cookie.value
    device = KnownDevice.objects.get(user=owner)
    assert device.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert len(token) >= 43


def test_the_cookie_is_secure_over_https(owner):
    response = Client().post(
        LOGIN,
        {"username": "chief", "password": PASSWORD},
        REMOTE_ADDR=HOME,
        secure=True,
    )
    assert response.cookies[COOKIE]["secure"]


def test_a_failed_login_gives_no_cookie(owner):
    response = post(Client(), "chief")
    assert COOKIE not in response.cookies


@pytest.mark.parametrize("method", ["username", "ip_or_username"])
def test_the_owners_known_device_signs_in_while_strangers_lock_the_name(
    configure, owner, method
):
    """16 failures from 16 networks lock `chief` out for 24 hours; the owner's
    browser signs in at once, and the name stays locked for everyone else."""
    configure(lockout_method=method)
    browser = signed_in_browser()
    lock_out_by_name("chief")
    stranger = Client()
    refused = post(stranger, "chief", PASSWORD, ip="198.51.100.20")
    assert refused.status_code == 429, "the name's lockout must still hold"
    assert post(browser, "chief", PASSWORD).status_code == 302
    # The owner's sign-in lifted nothing: the next stranger is still refused.
    assert post(Client(), "chief", PASSWORD, ip="198.51.100.21").status_code == 429


def test_a_lockout_of_the_address_the_owner_shares_does_not_refuse_its_known_device(
    configure, owner
):
    """Under the default `ip`: a guesser behind the owner's office NAT locks
    the address out (and, from around it, the network); the owner's browser
    still signs in, the guesser stays refused."""
    configure(lockout_method="ip", network_retries=8)
    browser = signed_in_browser()
    guesser = Client()
    for n in range(4):
        post(guesser, f"name{n}")  # from HOME: the address locks
    for n in range(4):
        post(guesser, f"other{n}", ip=f"203.0.113.{100 + n}")  # the /24 locks
    assert post(guesser, "chief", PASSWORD).status_code == 429
    assert post(Client(), "chief", PASSWORD, ip="203.0.113.200").status_code == 429
    assert post(browser, "chief", PASSWORD).status_code == 302
    assert post(guesser, "chief", PASSWORD).status_code == 429


def test_a_known_device_that_fails_too_often_is_locked_out_on_its_own(configure, owner):
    """Under `username`: the owner's own typos lock only that browser; the
    owner's other browser and strangers are not locked by them."""
    configure(lockout_method="username")
    laptop = signed_in_browser()
    phone = signed_in_browser(ip="192.0.2.50")
    statuses = [post(laptop, "chief").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    assert post(laptop, "chief", PASSWORD).status_code == 429
    assert post(phone, "chief", PASSWORD, ip="192.0.2.50").status_code == 302
    # The name itself was not counted: a stranger still has every try.
    page = post(Client(), "chief", ip="198.51.100.20")
    assert page.status_code == 200
    assert "3 attempts remaining" in page.content.decode()


def test_a_known_device_lockout_shows_in_the_reports_and_unlocking_the_account_lifts_it(
    configure, owner, admin_client
):
    configure(lockout_method="username")
    laptop = signed_in_browser()
    for _ in range(4):
        post(laptop, "chief")
    page = admin_client.get("/admin/login-security/lockouts/active/")
    assert "Known device" in page.content.decode()
    call_command("loginlimit_unlock", username="chief", stdout=io.StringIO())
    assert post(laptop, "chief", PASSWORD).status_code == 302


def test_the_token_changes_at_every_sign_in_and_an_old_copy_is_a_stranger(
    configure, owner
):
    configure(lockout_method="username")
    browser = signed_in_browser()
    copied = browser.cookies[COOKIE].value
    assert post(browser, "chief", PASSWORD).status_code == 302
    assert browser.cookies[COOKIE].value != copied
    lock_out_by_name("chief")
    thief = Client()
    thief.cookies[COOKIE] = copied
    assert post(thief, "chief", PASSWORD, ip="198.51.100.30").status_code == 429
    assert post(browser, "chief", PASSWORD).status_code == 302


def test_a_forged_or_altered_cookie_is_a_stranger(configure, owner):
    configure(lockout_method="username")
    browser = signed_in_browser()
    value = browser.cookies[COOKIE].value
    lock_out_by_name("chief")
    for forged in (value[:-2] + "xx", "token:1:signature", "x" * 4000):
        thief = Client()
        thief.cookies[COOKIE] = forged
        assert post(thief, "chief", PASSWORD, ip="198.51.100.31").status_code == 429
    assert post(browser, "chief", PASSWORD).status_code == 302


def test_one_accounts_device_does_nothing_for_another_account(configure, owner):
    """A browser known to the attacker's own account gets no extra tries at
    the owner's."""
    get_user_model().objects.create_user(username="mallory", password=PASSWORD)
    configure(lockout_method="username")
    attacker = signed_in_browser("mallory", ip="198.51.100.40")
    browser = signed_in_browser()
    lock_out_by_name("chief")
    assert post(attacker, "chief", PASSWORD, ip="198.51.100.40").status_code == 429
    assert post(browser, "chief", PASSWORD).status_code == 302


def known_during_lockout(browser: Client) -> None:
    """The browser gets in while the name is locked (and signs out again)."""
    assert post(browser, "chief", PASSWORD).status_code == 302
    browser.post("/admin/logout/", REMOTE_ADDR=HOME)


def test_a_password_change_voids_the_accounts_devices(configure, owner):
    configure(lockout_method="username")
    browser = signed_in_browser()
    lock_out_by_name("chief")
    known_during_lockout(browser)
    owner.set_password("a new password for a new start")
    owner.save()
    response = post(browser, "chief", "a new password for a new start")
    assert response.status_code == 429
    assert not KnownDevice.objects.filter(user=owner).exists()


def test_a_device_unused_for_90_days_is_forgotten(configure, owner, clock):
    configure(lockout_method="username")
    old = signed_in_browser()
    clock.shift(timedelta(days=89))
    recent = signed_in_browser(ip="192.0.2.70")
    clock.shift(timedelta(days=2))
    lock_out_by_name("chief")
    assert post(old, "chief", PASSWORD).status_code == 429
    assert post(recent, "chief", PASSWORD, ip="192.0.2.70").status_code == 302


def test_loginlimit_purge_deletes_devices_unused_for_90_days(owner, clock):
    signed_in_browser()
    clock.shift(timedelta(days=89))
    signed_in_browser()
    clock.shift(timedelta(days=2))
    call_command("loginlimit_purge", stdout=io.StringIO())
    assert KnownDevice.objects.filter(user=owner).count() == 1


def test_an_account_keeps_at_most_known_devices_browsers(settings, owner, clock):
    settings.WAGTAIL_LOGINLIMIT = {"known_devices": 2, "lockout_method": "username"}
    browsers = []
    for n in range(3):
        browsers.append(signed_in_browser(ip=f"192.0.2.{n + 1}"))
        clock.shift(timedelta(minutes=1))
    assert KnownDevice.objects.filter(user=owner).count() == 2
    lock_out_by_name("chief")
    statuses = [
        post(b, "chief", PASSWORD, ip=f"192.0.2.{n + 1}").status_code
        for n, b in enumerate(browsers)
    ]
    assert statuses == [429, 302, 302], "the longest unused goes first"


def test_known_devices_0_turns_them_off(settings, owner):
    settings.WAGTAIL_LOGINLIMIT = {"known_devices": 0}
    response = post(Client(), "chief", PASSWORD)
    assert response.status_code == 302
    assert COOKIE not in response.cookies
    assert not KnownDevice.objects.exists()


def test_one_browser_stays_known_to_several_accounts(configure, owner):
    get_user_model().objects.create_user(username="editor", password=PASSWORD)
    configure(lockout_method="username")
    browser = signed_in_browser("chief")
    assert post(browser, "editor", PASSWORD).status_code == 302
    browser.post("/admin/logout/", REMOTE_ADDR=HOME)
    lock_out_by_name("chief")
    lock_out_by_name("editor")
    assert post(browser, "chief", PASSWORD).status_code == 302
    browser.post("/admin/logout/", REMOTE_ADDR=HOME)
    assert post(browser, "editor", PASSWORD).status_code == 302


def test_loginlimit_forget_devices_makes_the_browsers_strangers(configure, owner):
    configure(lockout_method="username")
    browser = signed_in_browser()
    out = []

    class Out:
        def write(self, text):
            out.append(text)

    lock_out_by_name("chief")
    known_during_lockout(browser)
    call_command("loginlimit_forget_devices", "chief", stdout=Out())
    assert "Forgot 1 known device of “chief”." in "".join(out)
    assert post(browser, "chief", PASSWORD).status_code == 429
    entry = ModelLogEntry.objects.get(action="wagtail_loginlimit.forget_devices")
    assert entry.object_id == str(owner.pk)
    assert entry.user is None


def test_loginlimit_forget_devices_says_what_is_wrong(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="usernames, or --all"):
        call_command("loginlimit_forget_devices")
    with pytest.raises(CommandError, match="no account"):
        call_command("loginlimit_forget_devices", "nobody")


def test_an_admin_forgets_an_accounts_devices_from_the_user_listing(
    configure, owner, admin_client
):
    user = get_user_model().objects.create_user(username="editor", password=PASSWORD)
    configure(lockout_method="username")
    browser = signed_in_browser("editor")
    lock_out_by_name("editor")
    assert post(browser, "editor", PASSWORD).status_code == 302
    browser.post("/admin/logout/", REMOTE_ADDR=HOME)
    listing = admin_client.get("/admin/users/").content.decode()
    url = f"/admin/login-security/accounts/{user.pk}/forget-devices/"
    assert url in listing
    page = admin_client.get(url)
    assert page.status_code == 200
    assert "has signed in from 1 browser" in page.content.decode()
    response = admin_client.post(url, follow=True)
    assert "1 known device of “editor” forgotten." in response.content.decode()
    assert post(browser, "editor", PASSWORD).status_code == 429


def test_forgetting_devices_needs_the_permission(owner, client):
    get_user_model().objects.create_user(
        username="moderator", password=PASSWORD, is_staff=True
    )
    from django.contrib.auth.models import Permission

    moderator = get_user_model().objects.get(username="moderator")
    moderator.user_permissions.add(
        Permission.objects.get(
            codename="access_admin", content_type__app_label="wagtailadmin"
        )
    )
    client.force_login(moderator)
    url = f"/admin/login-security/accounts/{owner.pk}/forget-devices/"
    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403


def test_failures_from_a_known_device_never_deactivate_the_account(configure, owner):
    get_user_model().objects.create_user(username="editor", password=PASSWORD)
    configure(deactivate_after=1)
    browser = signed_in_browser("editor")
    for _ in range(8):
        post(browser, "editor", ip="192.0.2.60")
    editor = get_user_model().objects.get(username="editor")
    assert editor.is_active


def test_the_owner_of_a_deactivated_account_signs_in_from_a_known_device(
    configure, owner
):
    """Strangers' failures deactivate `editor`; its own browser with the right
    password makes it active and signs in. Strangers still cannot."""
    get_user_model().objects.create_user(username="editor", password=PASSWORD)
    configure(deactivate_after=1)
    browser = signed_in_browser("editor")
    lock_out_by_name("editor", failures=4)
    editor = get_user_model().objects.get(username="editor")
    assert not editor.is_active, "the strangers' failures should deactivate it"
    stranger = post(Client(), "editor", PASSWORD, ip="198.51.100.50")
    assert stranger.status_code == 200, "an inactive account fails like a typo"
    assert post(browser, "editor", PASSWORD).status_code == 302
    editor.refresh_from_db()
    assert editor.is_active
    record = Deactivation.objects.get(user=editor)
    assert record.reactivate_reason == Deactivation.REACTIVATED_KNOWN_DEVICE


def test_a_wrong_password_from_a_known_device_leaves_the_account_inactive(
    configure, owner
):
    get_user_model().objects.create_user(username="editor", password=PASSWORD)
    configure(deactivate_after=1)
    browser = signed_in_browser("editor")
    lock_out_by_name("editor", failures=4)
    assert post(browser, "editor", "still wrong").status_code == 200
    assert not get_user_model().objects.get(username="editor").is_active


def test_an_account_an_admin_made_inactive_stays_inactive(owner):
    browser = signed_in_browser()
    owner.is_active = False
    owner.save()
    assert post(browser, "chief", PASSWORD).status_code == 200
    owner.refresh_from_db()
    assert not owner.is_active


def test_a_request_without_the_cookie_makes_no_device_query(
    owner, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        post(Client(), "chief")
    assert not [q for q in queries if "knowndevice" in q["sql"].lower()]


def test_an_admin_forgets_an_accounts_devices_from_the_user_edit_screen(
    configure, owner, admin_client
):
    """With `users_app.UsersAppConfig` in place of "wagtail.users" (as in these
    tests' settings), the edit screen's "More" menu has the entry, and the
    confirmation leads back to the edit screen."""
    user = get_user_model().objects.create_user(username="editor", password=PASSWORD)
    configure(lockout_method="username")
    browser = signed_in_browser("editor")
    lock_out_by_name("editor")
    edit = reverse("wagtailusers_users:edit", args=[user.pk])
    forget = f"/admin/login-security/accounts/{user.pk}/forget-devices/"
    button = f"{forget}?{urlencode({'next': edit})}"
    page = admin_client.get(edit).content.decode()
    assert f'href="{button}"' in page
    assert "Forget known devices" in page
    confirmation = admin_client.get(button).content.decode()
    assert f'name="next" value="{edit}"' in confirmation
    assert f'href="{edit}" class="button button-secondary"' in confirmation
    response = admin_client.post(forget, {"next": edit})
    assert response.status_code == 302
    assert response["Location"] == edit
    assert post(browser, "editor", PASSWORD).status_code == 429
    # A next URL elsewhere is not followed.
    response = admin_client.post(forget, {"next": "https://evil.example/"})
    assert response["Location"] == "/admin/users/"


def test_the_edit_screen_shows_the_entry_only_to_who_may_manage_login_security(
    owner, client
):
    from django.contrib.auth.models import Permission

    manager = get_user_model().objects.create_user(
        username="manager", password=PASSWORD, is_staff=True
    )
    manager.user_permissions.add(
        Permission.objects.get(
            codename="access_admin", content_type__app_label="wagtailadmin"
        ),
        Permission.objects.get(codename="change_user", content_type__app_label="auth"),
    )
    client.force_login(manager)
    page = client.get(reverse("wagtailusers_users:edit", args=[owner.pk]))
    assert page.status_code == 200, "may edit users"
    assert "forget-devices" not in page.content.decode()
