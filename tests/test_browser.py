"""The login page as a person sees it, in Debian's real Chromium driven by
Playwright (no browser is downloaded: it must be /usr/bin/chromium)."""

import os
import shutil

import pytest
from django.contrib.auth import get_user_model

from tests.conftest import PASSWORD

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is required under CI=true: apt-get install chromium")
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    playwright = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API keeps an event loop running in this thread; the test's
    # own database calls are still plain synchronous ones.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        yield browser
        browser.close()
    del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


def tick_the_challenge(page, widget):
    """Tick the ALTCHA checkbox with the keyboard and wait for its answer."""
    widget.get_by_role("checkbox").focus()
    page.keyboard.press("Space")
    page.wait_for_function(
        "() => document.querySelector('input[name=loginlimit_challenge]')?.value",
        timeout=30_000,
    )


def sign_in(page, url, password):
    page.fill("#id_username", "editor")
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("button[type=submit]")


def test_a_person_sees_the_tries_left_then_the_lockout(
    browser, live_server, tmp_path, settings
):
    settings.WAGTAILADMIN_BASE_URL = live_server.url
    user = get_user_model().objects.create_user("editor", password=PASSWORD)
    user.is_staff = True
    user.save()
    page = browser.new_page()
    url = f"{live_server.url}/admin/login/"
    page.goto(url)

    seen = []
    for _ in range(3):
        sign_in(page, url, "wrong")
        seen.append(page.locator(".messages").inner_text())
    assert "3 attempts remaining" in seen[0]
    assert "2 attempts remaining" in seen[1]
    assert "1 attempt remaining" in seen[2]

    page.fill("#id_username", "editor")
    page.fill("#id_password", "wrong")
    with page.expect_response(lambda r: r.request.method == "POST") as info:
        page.click("button[type=submit]")
    response = info.value
    assert response.status == 429
    assert response.headers["retry-after"] == "1200"
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Too many login attempts"
    # Rounded up, as Retry-After is: not "19 minutes" a moment after the lockout.
    assert "try again in 20\xa0minutes" in page.locator(".messages").inner_text()
    # The page loads none of the admin's scripts, yet shows the message that
    # Wagtail's stylesheet keeps transparent until the scripts are ready.
    opacity = page.locator(".messages ul").evaluate("e => getComputedStyle(e).opacity")
    assert opacity == "1"
    page.screenshot(path=str(tmp_path / "lockout.png"))

    # Opening the sign-in page again shows the lockout at once, with no form
    # to type the password into in vain, and a way forward.
    with page.expect_response(lambda r: r.url == url) as info:
        page.goto(url)
    assert info.value.status == 429
    assert page.locator("h1").inner_text() == "Too many login attempts"
    assert page.locator("#id_password").count() == 0
    assert page.get_by_role("link", name="Forgotten password?").count() == 1


def test_the_progressive_delay_counts_down(browser, live_server, settings):
    """After a failure the page counts the wait down, then says the person
    may try again. Playwright's clock is moved instead of waiting; a try
    before the (server's, real) wait is over gets the "Please wait" page."""
    settings.WAGTAIL_LOGINLIMIT = {
        "progressive_delay": True,
        # Two minutes: the real wait outlasts the test on a slow machine.
        "progressive_delay_base": 120,
    }
    get_user_model().objects.create_user("editor", password=PASSWORD)
    page = browser.new_page()
    page.clock.install()
    url = f"{live_server.url}/admin/login/"
    page.goto(url)
    sign_in(page, url, "wrong")
    timer = page.locator(".loginlimit-countdown")
    assert timer.inner_text() in ("2:00", "1:59")
    assert timer.get_attribute("role") == "timer"
    # Not read out every second inside the page's status region.
    assert timer.get_attribute("aria-live") == "off"
    page.clock.run_for(12_000)
    assert timer.inner_text() in ("1:48", "1:47")

    # Too early for the server: refused before the password is checked.
    page.fill("#id_username", "editor")
    page.fill("#id_password", PASSWORD)
    with page.expect_response(lambda r: r.request.method == "POST") as info:
        page.click("button[type=submit]")
    assert info.value.status == 429
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Please wait"
    assert page.locator(".loginlimit-countdown").inner_text() != ""

    page.clock.run_for(121_000)
    assert "You can try again now." in page.locator(".messages").inner_text()
    assert page.locator(".loginlimit-countdown").count() == 0


def test_an_owner_locked_out_by_strangers_gets_back_in_on_a_known_device(
    browser, live_server, settings
):
    """Under `username`, wrong passwords from another browser lock the name
    out for 24 hours (every lockout long here, so the stranger needs no
    waits); that browser is refused even with the right password, while the
    owner's browser, which signed in before, gets in."""
    settings.WAGTAIL_LOGINLIMIT = {"lockout_method": "username", "allowed_lockouts": 1}
    get_user_model().objects.create_superuser("editor", password=PASSWORD)
    url = f"{live_server.url}/admin/login/"

    owner = browser.new_context()
    page = owner.new_page()
    page.goto(url)
    sign_in(page, url, PASSWORD)
    assert page.url.rstrip("/").endswith("/admin"), "the sign-in itself failed"
    device = [c for c in owner.cookies() if c["name"] == "loginlimit_device"]
    assert device and device[0]["httpOnly"] and device[0]["sameSite"] == "Lax"
    owner.clear_cookies(name="sessionid")  # signed out; the device cookie stays

    stranger = browser.new_context().new_page()
    stranger.goto(url)
    for _ in range(4):
        sign_in(stranger, url, "wrong")
    assert "try again in 1\xa0day" in stranger.locator(".messages").inner_text()
    stranger.goto(url)
    sign_in(stranger, url, PASSWORD)
    assert stranger.locator("h1").inner_text() == "Too many login attempts"

    page.goto(url)
    sign_in(page, url, PASSWORD)
    assert page.url.rstrip("/").endswith("/admin"), page.locator("body").inner_text()
    owner.close()


def test_a_locked_out_owner_gets_back_in_through_the_emailed_link(
    browser, live_server, settings, mailoutbox
):
    """On a browser that never signed in: the lockout page's "Email me a
    sign-in link", the link opened in that browser, its button pressed, and
    the password then works while the name stays locked for others."""
    import re

    settings.WAGTAIL_LOGINLIMIT = {"lockout_method": "username", "allowed_lockouts": 1}
    get_user_model().objects.create_superuser(
        "editor", email="editor@example.com", password=PASSWORD
    )
    url = f"{live_server.url}/admin/login/"
    page = browser.new_context().new_page()
    page.goto(url)
    for _ in range(4):
        sign_in(page, url, "wrong")
    assert page.locator("h1").inner_text() == "Too many login attempts"
    page.get_by_label("Username").fill("editor")
    with page.expect_navigation():
        page.get_by_role("button", name="Email me a sign-in link").click()
    assert "a sign-in link is on its way" in page.locator(".messages").inner_text()

    [message] = mailoutbox
    [link] = re.findall(r"https?://\S+", message.body)
    page.goto(link.replace("http://testserver", live_server.url))
    with page.expect_navigation():
        page.get_by_role("button", name="Yes, this browser").click()
    assert "This browser is now known" in page.locator(".messages").inner_text()

    page.goto(url)
    sign_in(page, url, PASSWORD)
    assert page.url.rstrip("/").endswith("/admin"), page.locator("body").inner_text()


def test_the_challenge_appears_after_captcha_after_failures_and_is_solved(
    browser, live_server, settings
):
    """The vendored ALTCHA widget in real Chromium: it appears after the
    failure that reaches `captcha_after`, is ticked with the keyboard, solves
    its proof of work, and the right password then signs in."""
    settings.WAGTAIL_LOGINLIMIT = {"captcha_after": 1, "challenge_cost": 1000}
    get_user_model().objects.create_superuser("editor", password=PASSWORD)
    url = f"{live_server.url}/admin/login/"
    page = browser.new_context().new_page()
    page.goto(url)
    assert page.locator("altcha-widget").count() == 0
    sign_in(page, url, "wrong")
    widget = page.locator("altcha-widget")
    assert widget.count() == 1
    tick_the_challenge(page, widget)
    sign_in(page, url, PASSWORD)
    assert page.url.rstrip("/").endswith("/admin"), page.locator("body").inner_text()


def test_in_attack_mode_a_new_browser_solves_the_challenge(
    browser, live_server, settings
):
    """Attack mode after 3 failed logins across the site: a browser that
    never signed in gets the challenge on its first try (with a link to ask
    for a sign-in link instead), solves it in Chromium and signs in."""
    settings.WAGTAIL_LOGINLIMIT = {"attack_threshold": 3, "challenge_cost": 1000}
    get_user_model().objects.create_superuser("editor", password=PASSWORD)
    url = f"{live_server.url}/admin/login/"
    attacker = browser.new_context().new_page()
    attacker.goto(url)
    for name in ("a1", "a2", "a3"):
        attacker.fill("#id_username", name)
        attacker.fill("#id_password", "wrong")
        with attacker.expect_navigation():
            attacker.click("button[type=submit]")
    page = browser.new_context().new_page()
    page.goto(url)
    widget = page.locator("altcha-widget")
    assert widget.count() == 1
    assert page.get_by_role("link", name="Email me a sign-in link").count() == 1
    tick_the_challenge(page, widget)
    sign_in(page, url, PASSWORD)
    assert page.url.rstrip("/").endswith("/admin"), page.locator("body").inner_text()
