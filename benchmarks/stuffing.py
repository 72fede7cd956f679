"""A credential-stuffing attack on a fresh install, and the owner signing in
through it: the plugin with its defaults, under gunicorn, real PBKDF2.

    python -m benchmarks.stuffing              about 3 minutes on 2 cores
    python -m benchmarks.stuffing --markdown   the table for docs/benchmarks.md

Load threads post wrong passwords from 1,000 addresses (passed in
`X-Forwarded-For`, as the settings' trusted proxy would), a new username each
try, for `--seconds`. Meanwhile the owner signs in with the right password
from a browser it signed in from before (a known device), once a second; the
same sign-ins are timed on the idle site first, in the same run. The figures:
password checks per minute during the attack (failed logins the site
counted: each one checked a password), how the attack's tries were answered,
and the owner's login latency (median and p95), idle and under attack.

Then the lockout attack: under `lockout_method = "username"`, 16 wrong
passwords from 16 networks lock the owner's name out for 24 hours; a stranger
with the right password is refused, the owner's known device signs in at
once. Loopback only; the load threads share the machine with the server, so
the latencies are an upper bound.
"""

from __future__ import annotations

import argparse
import itertools
import re
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as `python benchmarks/stuffing.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402

from benchmarks import machine  # noqa: E402
from benchmarks.servers import GunicornServer, run_django  # noqa: E402

SETTINGS = "benchmarks.settings.plugin"
LOGIN = "/admin/login/"
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CHALLENGED = "Confirm that you are a person"
OWNER, PASSWORD = "owner", "stuffing-Password-1"  # noqa: S105 - a throwaway's
WRONG = "not-the-password"  # noqa: S105
OWNER_IP = "192.0.2.10"
ADDRESSES = 1000

SETUP = f"""
from django.contrib.auth import get_user_model
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
get_user_model().objects.create_superuser({OWNER!r}, "owner@example.com", {PASSWORD!r})
"""
COUNT_FAILURES = """
from axes.models import AccessFailureLog
print(AccessFailureLog.objects.count())
"""


def address(number: int) -> str:
    """The `number`-th of the attack's addresses, each in a /24 of its own
    (198.18.0.0/15, the benchmarking range): no network count joins them."""
    number %= ADDRESSES
    return f"198.{18 + number // 256}.{number % 256}.1"


@dataclass
class Result:
    checks_per_minute: float = 0.0
    attack_requests: int = 0
    answers: Counter = field(default_factory=Counter)
    idle_ms: list[float] = field(default_factory=list)
    attack_ms: list[float] = field(default_factory=list)
    owner_statuses: Counter = field(default_factory=Counter)
    lockout: dict = field(default_factory=dict)


class Browser:
    """A `requests` session with the login page's CSRF token."""

    def __init__(self, url: str) -> None:
        self.url = url + LOGIN
        self.session = requests.Session()
        self.token = TOKEN.search(self.session.get(self.url, timeout=30).text).group(1)

    def post(self, username: str, password: str, ip: str) -> requests.Response:
        return self.session.post(
            self.url,
            data={
                "csrfmiddlewaretoken": self.token,
                "username": username,
                "password": password,
            },
            headers={"X-Forwarded-For": ip},
            allow_redirects=False,
            timeout=60,
        )


def owner_sign_in(url: str, device_cookie: str) -> tuple[float, int, str]:
    """One sign-in of the owner from its known device (a fresh session that
    keeps only the device cookie, as a browser whose session ended):
    milliseconds of the POST, its status, and the device cookie the browser
    keeps (the token changes at every sign-in)."""
    browser = Browser(url)
    browser.session.cookies.set("loginlimit_device", device_cookie)
    started = time.perf_counter()
    response = browser.post(OWNER, PASSWORD, OWNER_IP)
    ms = (time.perf_counter() - started) * 1000
    kept = response.cookies.get("loginlimit_device") or device_cookie
    return ms, response.status_code, kept


def known_device(url: str) -> str:
    """The owner signs in once: its browser's device cookie."""
    browser = Browser(url)
    response = browser.post(OWNER, PASSWORD, OWNER_IP)
    if response.status_code != 302:
        raise RuntimeError(f"The owner's first sign-in got {response.status_code}")
    return browser.session.cookies["loginlimit_device"]


def stuff(url: str, deadline: float, counter, answers: Counter, lock) -> None:
    browser = Browser(url)
    while time.monotonic() < deadline:
        with lock:
            number = next(counter)
        response = browser.post(f"user{number}", WRONG, address(number))
        if response.status_code == 200 and CHALLENGED in response.text:
            kind = "challenged (no password checked)"
        elif response.status_code == 200:
            kind = "password checked (200)"
        else:
            kind = f"HTTP {response.status_code}"
        with lock:
            answers[kind] += 1


def failures_counted(env: dict[str, str]) -> int:
    return int(run_django(SETTINGS, env, COUNT_FAILURES).strip())


def run(
    seconds: float = 60.0,
    threads: int = 4,
    owner_logins: int = 15,
    settings: dict[str, str] | None = None,
) -> Result:
    """The attack on a site with the defaults, or with `settings`
    (`LOGINLIMIT_*` variables, as the sandbox reads them)."""
    result = Result()
    with tempfile.TemporaryDirectory(prefix="loginlimit-stuffing-") as tmp:
        env = {
            "DATABASE_URL": f"sqlite:///{Path(tmp) / 'site.sqlite3'}",
            **(settings or {}),
        }
        run_django(SETTINGS, env, SETUP)
        server = GunicornServer(SETTINGS, env, workers=2).start()
        try:
            cookie = known_device(server.url)
            for _ in range(owner_logins):
                ms, status, cookie = owner_sign_in(server.url, cookie)
                result.idle_ms.append(ms)
            before = failures_counted(env)
            lock, counter = threading.Lock(), itertools.count()
            started = time.monotonic()
            deadline = started + seconds
            load = [
                threading.Thread(
                    target=stuff,
                    args=(server.url, deadline, counter, result.answers, lock),
                )
                for _ in range(threads)
            ]
            for thread in load:
                thread.start()
            while time.monotonic() < deadline:
                ms, status, cookie = owner_sign_in(server.url, cookie)
                result.attack_ms.append(ms)
                result.owner_statuses[status] += 1
                time.sleep(max(0.0, 1.0 - ms / 1000))
            for thread in load:
                thread.join(timeout=120)
            elapsed = time.monotonic() - started
            checks = failures_counted(env) - before
            result.checks_per_minute = checks * 60 / elapsed
            result.attack_requests = sum(result.answers.values())
        finally:
            server.close()
        result.lockout = lockout_attack(Path(tmp))
    return result


def lockout_attack(directory: Path) -> dict:
    """16 failures from 16 networks under `username`; then a stranger with
    the right password, and the owner's known device."""
    env = {
        "DATABASE_URL": f"sqlite:///{directory / 'lockout.sqlite3'}",
        "LOGINLIMIT_LOCKOUT_METHOD": "username",
    }
    run_django(SETTINGS, env, SETUP)
    server = GunicornServer(SETTINGS, env, workers=1).start()
    try:
        cookie = known_device(server.url)
        attacker = Browser(server.url)
        for n in range(16):
            attacker.post(OWNER, WRONG, address(n))
        stranger = Browser(server.url).post(OWNER, PASSWORD, "192.0.2.77")
        ms, status, _ = owner_sign_in(server.url, cookie)
    finally:
        server.close()
    return {"stranger": stranger.status_code, "owner": status, "owner_ms": ms}


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def table(result: Result, markdown: bool) -> str:
    idle, attack = result.idle_ms, result.attack_ms
    rows = [
        ("attack requests", f"{result.attack_requests:,}"),
        *((f"  {kind}", f"{n:,}") for kind, n in sorted(result.answers.items())),
        *(
            (f"  owner's sign-ins answered HTTP {status}", f"{n:,}")
            for status, n in sorted(result.owner_statuses.items())
            if status != 302
        ),
        ("password checks per minute (attack)", f"{result.checks_per_minute:,.0f}"),
        ("owner's login, idle: median / p95", _ms(idle)),
        ("owner's login, under attack: median / p95", _ms(attack)),
        (
            "owner's logins under attack that got in",
            f"{result.owner_statuses.get(302, 0)} of {len(attack)}",
        ),
        (
            "16-request lockout: stranger with the right password",
            f"HTTP {result.lockout['stranger']}",
        ),
        (
            "16-request lockout: owner's known device",
            f"HTTP {result.lockout['owner']} in {result.lockout['owner_ms']:.0f} ms",
        ),
    ]
    if markdown:
        lines = ["| measurement | value |", "|---|---|"]
        lines += [f"| {label.strip()} | {value} |" for label, value in rows]
        return "\n".join(lines)
    width = max(len(label) for label, _ in rows)
    return "\n".join(f"{label:<{width}}  {value}" for label, value in rows)


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values):.0f} ms / {_p95(values):.0f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=90.0)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    load_at_start = machine.load()
    result = run(args.seconds, args.threads)
    described = machine.describe([f"SQLite {sqlite3.sqlite_version}"], load_at_start)
    for label, value in described:
        print(f"{label}: {value}")
    print()
    print(table(result, args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
