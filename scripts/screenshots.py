"""Screenshots of every login-security screen for the docs, from a freshly
seeded sandbox, in Debian's Chromium driven by Playwright (no browser is
downloaded). Run it through `scripts/screenshots`; see docs/screenshots.md.

Each run starts from nothing: a new SQLite database in a temporary folder,
migrated and filled by the sandbox's `seed_demo`, served by `runserver` on a
free loopback port. The pictures are overwritten, so the script can be run
again whenever the screens change.

For each theme (light, dark: the admin's "Admin theme" preference, with the
browser's colour scheme to match for the pages outside the admin) and each
width (1280 and 390 px) it takes the admin screens as the demo admin, then
makes the browser fail to log in (the login page with "N attempts remaining",
then the lockout page), and unlocks 127.0.0.1 again with loginlimit_unlock.
PNGs are reduced to a 256-colour palette (Pillow) to keep the repository small.
"""

from __future__ import annotations

import argparse
import io
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SANDBOX = ROOT / "sandbox"
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "changeme-demo"
WIDTHS = {1280: 900, 390: 844}  # width: viewport height
THEMES = ("light", "dark")
# The tallest a full-page picture may be (CSS pixels); longer pages are cut.
MAX_HEIGHT = 3200


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def setup_django(workdir: Path) -> None:
    """The sandbox's settings on a new database, in this process too (for the
    seeding, the ids the confirmation pages need, and unlocking)."""
    os.environ.update(SANDBOX_ENV(workdir))
    sys.path[:0] = [str(ROOT), str(SANDBOX)]
    # Playwright's sync API runs an event loop in this thread; these ORM calls
    # are plain synchronous ones all the same.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    import django

    django.setup()


def SANDBOX_ENV(workdir: Path) -> dict[str, str]:  # noqa: N802
    return {
        "DJANGO_SETTINGS_MODULE": "sandbox.settings",
        "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
        "CACHE_URL": "locmemcache://",
        "LOGINLIMIT_DEMO_PASSWORD": PASSWORD,
        "DEBUG": "true",
    }


def clean_environment() -> None:
    """No LOGINLIMIT_* of the developer's shell may fix a value in code."""
    for key in list(os.environ):
        if key.startswith("LOGINLIMIT_") or key in ("DATABASE_URL", "CACHE_URL"):
            del os.environ[key]


def start_server(workdir: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, **SANDBOX_ENV(workdir), "PYTHONPATH": str(ROOT)}
    log = (workdir / "server.log").open("w")
    server = subprocess.Popen(  # noqa: S603 (our own interpreter and script)
        [
            sys.executable,
            str(SANDBOX / "manage.py"),
            "runserver",
            f"127.0.0.1:{port}",
            "--noreload",
            "--nothreading",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/", timeout=5)  # noqa: S310
            return server
        except OSError:
            if server.poll() is not None:
                break
            time.sleep(0.5)
    server.kill()
    raise SystemExit(f"The sandbox did not start; see {workdir / 'server.log'}")


def optimise(png: bytes) -> bytes:
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    paletted = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=0)
    out = io.BytesIO()
    paletted.save(out, format="PNG", optimize=True)
    return out.getvalue()


class Camera:
    def __init__(self, browser, base: str, only: set[str] | None):
        self.browser = browser
        self.base = base
        self.only = only
        self.taken: list[Path] = []

    def context(self, width: int, theme: str):
        return self.browser.new_context(
            viewport={"width": width, "height": WIDTHS[width]},
            device_scale_factor=1,
            color_scheme=theme,
            locale="en-GB",
            timezone_id="UTC",
            reduced_motion="reduce",
        )

    def shoot(self, page, name: str, width: int, theme: str) -> None:
        if self.only and name not in self.only:
            return
        page.wait_for_load_state("networkidle")
        # Wagtail fades some things in; give them their final look.
        page.add_style_tag(
            content="*, *::before, *::after { transition: none !important; "
            "animation: none !important; caret-color: transparent !important; }"
        )
        # The admin scrolls its main column, not the document: make the
        # viewport as tall as the tallest scrolling part, then take it whole.
        height = page.evaluate(
            """() => Math.max(document.documentElement.scrollHeight,
                ...[...document.querySelectorAll("body *")]
                    .filter(e => e.scrollHeight > e.clientHeight + 1 &&
                        ["auto", "scroll"].includes(getComputedStyle(e).overflowY))
                    .map(e => e.getBoundingClientRect().top + e.scrollHeight))"""
        )
        height = min(max(int(height), WIDTHS[width]), MAX_HEIGHT)
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(200)
        png = page.screenshot()
        page.set_viewport_size({"width": width, "height": WIDTHS[width]})
        path = OUT / f"{name}-{width}-{theme}.png"
        path.write_bytes(optimise(png))
        self.taken.append(path)
        print(f"  {path.relative_to(ROOT)} ({path.stat().st_size // 1024} KB)")


def set_admin_theme(theme: str) -> None:
    from django.contrib.auth import get_user_model
    from wagtail.users.models import UserProfile

    admin = get_user_model()._default_manager.get(username="admin")
    profile = UserProfile.get_for_user(admin)
    profile.theme = theme
    profile.save()


def confirmation_urls() -> dict[str, str]:
    from django.urls import reverse

    from wagtail_loginlimit.models import Deactivation, Lockout

    def bulk(model: str, action: str, ids, next_name: str) -> str:
        url = reverse("wagtail_bulk_action", args=["wagtail_loginlimit", model, action])
        query = "&".join(f"id={pk}" for pk in ids)
        return f"{url}?{query}&next={reverse(next_name)}"

    lockouts = list(
        Lockout.objects.active().order_by("started_at").values_list("pk", flat=True)
    )
    deactivations = list(Deactivation.objects.open().values_list("pk", flat=True))
    return {
        "unlock-confirm": bulk(
            "lockout", "unlock", lockouts[:2], "wagtail_loginlimit:active_lockouts"
        ),
        "reactivate-confirm": bulk(
            "deactivation",
            "reactivate",
            deactivations,
            "wagtail_loginlimit:deactivated_accounts",
        ),
    }


# (name, URL name, URL arguments): resolved with Django's reverse(), so that a
# screen that moves is still found.
ADMIN_SCREENS = [
    ("dashboard", "wagtailadmin_home", ()),
    (
        "settings",
        "wagtailsettings:edit",
        ("wagtail_loginlimit", "loginlimitsettings"),
    ),
    ("active-lockouts", "wagtail_loginlimit:active_lockouts", ()),
    ("lockout-history", "wagtail_loginlimit:lockout_history", ()),
    ("failed-logins", "wagtail_loginlimit:failed_logins", ()),
    ("deactivated-accounts", "wagtail_loginlimit:deactivated_accounts", ()),
]


def admin_screens(camera: Camera, width: int, theme: str) -> None:
    context = camera.context(width, theme)
    page = context.new_page()
    page.goto(f"{camera.base}/admin/login/")
    page.fill("#id_username", "admin")
    page.fill("#id_password", PASSWORD)
    with page.expect_navigation():
        page.click("button[type=submit]")
    if "/login/" in page.url:
        raise SystemExit(f"The demo admin could not log in at {page.url}")
    from django.urls import reverse

    screens = [
        *((name, reverse(url, args=args)) for name, url, args in ADMIN_SCREENS),
        *confirmation_urls().items(),
    ]
    for name, path in screens:
        page.goto(f"{camera.base}{path}")
        camera.shoot(page, name, width, theme)
    context.close()


def login_screens(camera: Camera, width: int, theme: str) -> None:
    """Wrong passwords until the lockout: the first failure's page, then the
    lockout page. 127.0.0.1 is unlocked before and after."""
    forget_the_browser()
    context = camera.context(width, theme)
    page = context.new_page()
    page.goto(f"{camera.base}/admin/login/")
    for attempt in range(1, 10):
        page.fill("#id_username", "editor")
        page.fill("#id_password", "wrong password")
        with page.expect_response(lambda r: r.request.method == "POST") as info:
            page.click("button[type=submit]")
        page.wait_for_load_state()
        if info.value.status == 429:
            break
        if attempt == 1:
            camera.shoot(page, "login-attempts-remaining", width, theme)
    else:
        raise SystemExit("No lockout after 9 wrong passwords: is the plugin on?")
    camera.shoot(page, "lockout", width, theme)
    context.close()
    forget_the_browser()


def forget_the_browser() -> None:
    """Unlock 127.0.0.1 and remove its failures and lockouts, so that the
    reports of the next pass show the seeded attackers, not the camera."""
    from axes.models import AccessFailureLog
    from django.core.management import call_command

    from wagtail_loginlimit.models import Lockout

    call_command("loginlimit_unlock", ip="127.0.0.1", stdout=io.StringIO())
    AccessFailureLog.objects.filter(ip_address="127.0.0.1").delete()
    Lockout.objects.filter(ip_address="127.0.0.1").delete()


def digest_email(camera: Camera, width: int) -> None:
    """The weekly digest's HTML email as a mail client shows it (light only:
    the email sets its own colours)."""
    from wagtail_loginlimit import digest

    message = digest.build_digest_email(
        digest.last_period(digest.WEEKLY), ["admin@example.com"]
    )
    [(html, _)] = message.alternatives
    context = camera.context(width, "light")
    page = context.new_page()
    page.set_content(html)
    camera.shoot(page, "digest-email", width, "light")
    context.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "names",
        nargs="*",
        help="only these screens (e.g. lockout settings); default: all",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary sandbox folder"
    )
    args = parser.parse_args()
    if not os.path.exists(CHROMIUM):
        raise SystemExit("Chromium is required: apt-get install chromium")
    from playwright.sync_api import sync_playwright

    clean_environment()
    workdir = Path(tempfile.mkdtemp(prefix="loginlimit-screenshots-"))
    print(f"Sandbox in {workdir}")
    setup_django(workdir)
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    call_command("seed_demo")
    OUT.mkdir(parents=True, exist_ok=True)
    port = free_port()
    server = start_server(workdir, port)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM,
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                    "--hide-scrollbars",
                    "--font-render-hinting=none",
                ],
            )
            camera = Camera(browser, f"http://127.0.0.1:{port}", set(args.names))
            for theme in THEMES:
                set_admin_theme(theme)
                for width in WIDTHS:
                    print(f"{theme}, {width} px")
                    admin_screens(camera, width, theme)
                    login_screens(camera, width, theme)
                    if theme == "light":
                        digest_email(camera, width)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    total = sum(path.stat().st_size for path in camera.taken)
    print(f"{len(camera.taken)} screenshots, {total // 1024} KB, in {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
