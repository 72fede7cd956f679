"""The admin screens as a person uses them, in Debian's Chromium driven by
Playwright (nothing is downloaded): change a limit and meet it on the login
page, unlock from a report, reactivate an account, download the CSV, reach
every column at 1024 and 390 px; and axe-core on every screen of the plugin.

axe-core comes from the `axe-playwright-python` package, which ships
`axe.min.js` inside the wheel and only injects it into the page; it is run
here with our own options, so no file is fetched while the tests run."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from wagtail.models import Locale, Page, Site
from wagtail.test.utils import WagtailTestUtils

from tests.conftest import PASSWORD
from tests.test_browser import browser  # noqa: F401  (the Chromium fixture)
from wagtail_loginlimit.models import Deactivation, Lockout

pytestmark = pytest.mark.django_db(transaction=True)

ACTIVE = reverse("wagtail_loginlimit:active_lockouts")
HISTORY = reverse("wagtail_loginlimit:lockout_history")
FAILED = reverse("wagtail_loginlimit:failed_logins")
DEACTIVATED = reverse("wagtail_loginlimit:deactivated_accounts")
SETTINGS = reverse(
    "wagtailsettings:edit", args=["wagtail_loginlimit", "loginlimitsettings"]
)
REPORTS = [ACTIVE, HISTORY, FAILED, DEACTIVATED]
AGENT = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


def attack(ip: str, username: str = "mallory", times: int = 4) -> None:
    attacker = Client()
    for _ in range(times):
        attacker.post(
            "/admin/login/",
            {"username": username, "password": "wrong"},
            REMOTE_ADDR=ip,
            HTTP_USER_AGENT=AGENT,
        )


@pytest.fixture
def admin_page(browser, live_server):  # noqa: F811
    """A signed-in superuser's browser tab, `page.open(path, width)`."""
    admin = WagtailTestUtils.create_superuser("boss", password=PASSWORD)
    client = Client()
    client.force_login(admin)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.add_cookies(
        [
            {
                "name": "sessionid",
                "value": client.cookies["sessionid"].value,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()

    def open_(path: str, width: int = 1280):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(f"{live_server.url}{path}")
        return page

    page.open = open_
    page.server = live_server.url
    yield page
    context.close()


# --- the flows --------------------------------------------------------------------


def test_a_changed_limit_takes_effect_on_the_login_page(admin_page, browser):  # noqa: F811
    page = admin_page.open(SETTINGS)
    page.fill("#id_allowed_retries", "2")
    with page.expect_navigation():
        page.click("button.button-longrunning[type=submit]")
    assert "2" == page.input_value("#id_allowed_retries")
    # The budget line follows the saved value.
    assert "at most 15 passwords a day" in page.inner_text("[data-loginlimit-budget]")

    visitor = browser.new_page()
    visitor.goto(f"{admin_page.server}/admin/login/")
    visitor.fill("#id_username", "someone")
    visitor.fill("#id_password", "wrong")
    with visitor.expect_navigation():
        visitor.click("button[type=submit]")
    assert "1 attempt remaining" in visitor.inner_text(".messages")
    visitor.close()


def test_unlock_from_the_report(admin_page):
    attack("203.0.113.7")
    attack("198.51.100.9")
    page = admin_page.open(ACTIVE)
    page.get_by_role("link", name="Unlock 203.0.113.7").click()
    page.wait_for_load_state()
    assert "Unlock 1 lockout" in page.title()
    assert "203.0.113.7" in page.inner_text("main")
    with page.expect_navigation():
        page.get_by_role("button", name="Yes, unlock").click()
    assert "1 lockout lifted." in page.inner_text(".messages")
    table = page.inner_text("#listing-results")
    assert "198.51.100.9" in table and "203.0.113.7" not in table
    assert Lockout.objects.get(ip_address="203.0.113.7").lift_reason == "unlock"


def test_reactivate_an_account(admin_page, settings):
    settings.WAGTAIL_LOGINLIMIT = {"deactivate_after": 1}
    get_user_model().objects.create_user("editor", password=PASSWORD)
    for n in range(4):
        attack(f"192.0.2.{n + 1}", username="editor", times=1)
    assert not get_user_model().objects.get(username="editor").is_active
    page = admin_page.open(DEACTIVATED)
    page.get_by_role("link", name="Reactivate editor").click()
    page.wait_for_load_state()
    with page.expect_navigation():
        page.get_by_role("button", name="Yes, reactivate").click()
    assert "1 account reactivated." in page.inner_text(".messages")
    assert get_user_model().objects.get(username="editor").is_active
    assert not Deactivation.objects.open().exists()


def test_download_the_csv(admin_page, tmp_path):
    attack("203.0.113.7", username="mallory", times=4)
    page = admin_page.open(FAILED)
    page.get_by_role("button", name="Actions").click()
    with page.expect_download() as info:
        page.get_by_role("link", name="Download CSV").click()
    path = tmp_path / "failed.csv"
    info.value.save_as(path)
    assert re.fullmatch(
        r"failed-logins-\d{4}-\d\d-\d\d\.csv", info.value.suggested_filename
    )
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert rows[0][:3] == ["Time", "IP address", "Username"]
    assert len(rows) == 5
    assert {row[1] for row in rows[1:]} == {"203.0.113.7"}
    assert sorted(row[5] for row in rows[1:]) == ["No", "No", "No", "Yes"]


# --- the tables fit -----------------------------------------------------------------

LINES = """el => {
    // The lines the cell's words take up: the top of each line box of its
    // text, ignoring text only a screen reader reads (a 1 px box).
    const tops = new Set();
    const walker = document.createTreeWalker(el, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (!node.textContent.trim()) continue;
        const range = document.createRange();
        range.selectNodeContents(node);
        for (const rect of range.getClientRects()) {
            if (rect.width > 2 && rect.height > 2) tops.add(Math.round(rect.top));
        }
    }
    return tops.size;
}"""

REACH_LAST_COLUMN = """scroller => {
    scroller.scrollLeft = scroller.scrollWidth;
    const last = scroller.querySelector('thead th:last-child');
    const box = last.getBoundingClientRect();
    const x = Math.min(box.right - 4, window.innerWidth - 4);
    const hit = document.elementFromPoint(x, box.top + box.height / 2);
    return {
        inView: box.right <= window.innerWidth + 1 && box.left >= 0,
        hit: !!hit && last.contains(hit),
        label: last.innerText.trim(),
    };
}"""


@pytest.mark.parametrize("width", [1024, 390])
def test_every_column_can_be_reached(admin_page, width, settings):
    settings.WAGTAIL_LOGINLIMIT = {"deactivate_after": 1}
    get_user_model().objects.create_user(
        "editor", email="editor@example.com", password=PASSWORD
    )
    attack("203.0.113.7")
    attack("2001:db8:1:2::5")
    for n in range(4):
        attack(f"192.0.2.{n + 1}", username="editor", times=1)
    Lockout.objects.filter(ip_address="203.0.113.7").update(
        lift_reason="", is_long=True
    )
    for path in REPORTS:
        page = admin_page.open(path, width)
        scroller = page.locator(".loginlimit-table-scroll")
        reached = scroller.evaluate(REACH_LAST_COLUMN)
        assert reached["inView"] and reached["hit"], (path, width, reached)
        # Addresses and dates keep to one line; so does a title (its row
        # buttons go on the line below it).
        cells = page.locator(
            "td.w-whitespace-nowrap:not(.title), td.w-whitespace-nowrap .title-wrapper"
        )
        for cell in cells.all():
            assert cell.evaluate(LINES) <= 1, (path, width, cell.inner_text())
    page = admin_page.open(ACTIVE, width)
    for button in page.get_by_role("link", name=re.compile("^Unlock ")).all():
        assert button.evaluate(LINES) == 1, "the button's label breaks"


# --- accessibility -------------------------------------------------------------------

AXE_OPTIONS = {"resultTypes": ["violations"]}
# What the plugin does not draw: Wagtail's own furniture around its screens.
# Its sidebar, slim header and breadcrumbs are Wagtail's markup, tested by
# Wagtail; each report, confirmation and panel is checked in the main area.
WAGTAIL_FURNITURE = [["#wagtail-sidebar"], [".w-slim-header"], ["[data-w-breadcrumbs]"]]


def axe_violations(page, include=None) -> list[dict]:
    from axe_playwright_python.base import AXE_SCRIPT

    page.evaluate(AXE_SCRIPT)
    context = {"exclude": WAGTAIL_FURNITURE}
    if include:
        context["include"] = include
    result = page.evaluate(
        "([context, options]) => axe.run(context, options)",
        [context, AXE_OPTIONS],
    )
    return [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["html"][:200] for n in v["nodes"]],
        }
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_no_serious_accessibility_violation_on_the_plugins_screens(
    admin_page, settings
):
    settings.WAGTAIL_LOGINLIMIT = {"deactivate_after": 1}
    get_user_model().objects.create_user("editor", password=PASSWORD)
    attack("203.0.113.7")
    for n in range(4):
        attack(f"192.0.2.{n + 1}", username="editor", times=1)
    lockout = Lockout.objects.filter(lifted_at__isnull=True).first()
    # The dashboard needs a page tree, which the transactional flush removed.
    Locale.objects.get_or_create(language_code="en")
    root = Page.add_root(instance=Page(title="Root", slug="root"))
    home = root.add_child(instance=Page(title="Home", slug="home"))
    Site.objects.create(hostname="localhost", root_page=home, is_default_site=True)
    record = Deactivation.objects.get()
    bulk = "/admin/bulk/wagtail_loginlimit"
    screens = {
        **{path: None for path in REPORTS},
        f"{bulk}/lockout/unlock/?id={lockout.pk}&next={ACTIVE}": None,
        f"{bulk}/deactivation/reactivate/?id={record.pk}&next={DEACTIVATED}": None,
        SETTINGS: None,
        reverse("wagtail_loginlimit:fixed_limits"): None,
        reverse("wagtailadmin_home"): [["section#loginlimit-section"]],
    }
    found = {}
    for path, include in screens.items():
        for width in (1280, 390):
            page = admin_page.open(path, width)
            if include:
                page.wait_for_selector(include[0][0], state="attached")
            violations = axe_violations(page, include)
            if violations:
                found[f"{path} @ {width}px"] = violations
    assert not found, json.dumps(found, indent=2)
