"""Attacks that try to walk around the limits: how many password checks an
attacker gets in an hour, for each lockout method and for plain django-axes,
side by side in one run.

    python -m benchmarks.walkaround              about 10 minutes on 2 cores
    python -m benchmarks.walkaround --markdown   the table for docs/benchmarks.md

Each site runs under gunicorn with a counting password hasher and a virtual
clock (`benchmarks.virtual`, installed by `benchmarks.settings.walkaround`
only). The attacker tries once every `PACE` seconds of virtual time (24,000
tries an hour); an attacker on one address that is refused waits as long as
`Retry-After` says (or the 20-minute lockout, where axes sends none), one that
rotates addresses moves on to its next one, and waits too once
`GIVE_UP_AFTER` addresses in a row were refused (the name or the network is
locked out). A run ends after an hour of virtual time or `--requests` requests, whichever comes first; the figure is the
victim's password checks (what the hasher did, less the attacker's own
sign-ins) per hour of virtual time, marked `≈` where the request cap ended it
and the hour was extrapolated from the part played. Loopback only; every
address is a documentation range (RFC 5737, RFC 3849).
"""

from __future__ import annotations

import argparse
import ipaddress
import itertools
import os
import re
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as `python benchmarks/walkaround.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import requests  # noqa: E402

from benchmarks import machine  # noqa: E402
from benchmarks.servers import GunicornServer, run_django  # noqa: E402

SETTINGS = "benchmarks.settings.walkaround"
LOGIN = "/admin/login/"
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
PACE = 0.15  # virtual seconds between two tries: 24,000 an hour
HOUR = 3600.0
FALLBACK_WAIT = 1200.0
# The form's message for a try without a passed challenge (`challenge`).
CHALLENGED = (
    "Confirm that you are a person"  # a refusal without Retry-After (plain axes)
)
# Refusals in a row after which a rotating attacker stops moving on and waits:
# more than a /24 holds, so a whole pass over the /24 was refused. A refusal is
# not always a try wasted (the try that locks an address out is answered 429
# after its password was checked, by axes and the plugin alike): an attacker
# that gave up after a few 429s in a row would leave most of plain axes' /24
# untried.
GIVE_UP_AFTER = 256
VICTIM, OWN, WHITELISTED = "editor", "mallory", "admin"
PASSWORD = "walkaround-Password-1"  # noqa: S105 - throwaway accounts'
WRONG = "not-the-password"  # noqa: S105
ONE_IP = "203.0.113.66"
CSRF_PAGE_IP = "192.0.2.250"  # only fetches the CSRF token
START = datetime(2030, 1, 1, tzinfo=UTC)

USERS = f"""
from django.contrib.auth import get_user_model
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
User = get_user_model()
for name in ({VICTIM!r}, {OWN!r}, {WHITELISTED!r}):
    User.objects.create_user(name, f"{{name}}@example.com", {PASSWORD!r},
        is_staff=True, is_superuser=name == {WHITELISTED!r})
"""

# Each site under attack: its name and environment.
SITES: dict[str, dict[str, str]] = {
    **{
        f"plugin, {method}": {
            "BENCHMARK_SITE": "plugin",
            "LOGINLIMIT_LOCKOUT_METHOD": method,
            "LOGINLIMIT_WHITELIST": WHITELISTED,
        }
        for method in ("ip", "username", "ip_and_username", "ip_or_username")
    },
    "plain django-axes": {"BENCHMARK_SITE": "axes"},
}


def rotate_v4() -> Iterator[str]:
    network = ipaddress.ip_network("198.51.100.0/24")
    return itertools.cycle(str(address) for address in network.hosts())


def rotate_v6() -> Iterator[str]:
    """One address in each /64 of a /48: 65,536 clients to a per-/64 count."""
    base = int(ipaddress.ip_address("2001:db8:aa00::"))
    return (str(ipaddress.ip_address(base + (n << 64) + 1)) for n in itertools.count())


@dataclass
class Scenario:
    title: str
    addresses: Callable[[], Iterator[str]]
    usernames: Callable[[], Iterator[str]] = lambda: itertools.repeat(VICTIM)
    # After how many of the victim's tries the attacker signs in to its own
    # account from the same address (0: never).
    own_login_every: int = 0

    @property
    def rotates(self) -> bool:
        return self.addresses is not _one_ip


def _one_ip() -> Iterator[str]:
    return itertools.repeat(ONE_IP)


SCENARIOS: dict[str, Scenario] = {
    "whitelisted name": Scenario(
        "wrong passwords for a whitelisted name (`admin`) from one address",
        _one_ip,
        lambda: itertools.repeat(WHITELISTED),
    ),
    "own-account reset": Scenario(
        "3 wrong passwords for `editor`, then a real sign-in to the attacker's "
        "own account, from one address, again and again",
        _one_ip,
        own_login_every=3,
    ),
    "rotation in a /24": Scenario(
        "one try per address, rotating through an IPv4 /24", rotate_v4
    ),
    "rotation in a /48": Scenario(
        "one try per /64, rotating through an IPv6 /48", rotate_v6
    ),
    "spray over usernames": Scenario(
        "one address, a new username each try",
        _one_ip,
        lambda: (f"user{n}" for n in itertools.count()),
    ),
}


@dataclass
class Result:
    checks: int = 0  # the victim's password checks
    tries: int = 0
    virtual_seconds: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)
    # Stopped at the challenge: no further check within the valid window, so
    # `checks` is the hour's (not extrapolated).
    challenged: bool = False

    @property
    def capped(self) -> bool:
        return self.virtual_seconds < HOUR and not self.challenged

    @property
    def per_hour(self) -> float:
        if self.challenged:
            return float(self.checks)
        return self.checks * HOUR / max(self.virtual_seconds, PACE)


def prepare(directory: Path) -> Path:
    """A migrated SQLite database with the three accounts, copied per site."""
    template = directory / "template.sqlite3"
    run_django(SETTINGS, {"DATABASE_URL": f"sqlite:///{template}"}, USERS)
    return template


class Site:
    """One gunicorn server of `SITES`, its counting file and its CSRF token."""

    def __init__(
        self, env: dict[str, str], directory: Path, number: int, template: Path
    ) -> None:
        self.count_file = directory / f"hashes{number}"
        self.count_file.touch()
        path = directory / f"site{number}.sqlite3"
        shutil.copyfile(template, path)
        env = {**env, "DATABASE_URL": f"sqlite:///{path}"}
        self.server = GunicornServer(
            SETTINGS, {**env, "BENCHMARK_HASH_COUNT": str(self.count_file)}, workers=1
        )

    def hashes(self) -> int:
        return self.count_file.stat().st_size

    def session(self, moment: float) -> tuple[requests.Session, str]:
        session = requests.Session()
        page = session.get(
            self.server.url + LOGIN, headers=_headers(CSRF_PAGE_IP, moment), timeout=30
        )
        return session, TOKEN.search(page.text).group(1)

    def post(
        self, session, token, username, password, address, moment
    ) -> requests.Response:
        return session.post(
            self.server.url + LOGIN,
            data={
                "csrfmiddlewaretoken": token,
                "username": username,
                "password": password,
            },
            headers=_headers(address, moment),
            allow_redirects=False,
            timeout=30,
        )


def _headers(address: str, moment: float) -> dict[str, str]:
    return {"X-Forwarded-For": address, "X-Benchmark-Clock": f"{moment:.3f}"}


def attack(
    site: Site, scenario: Scenario, start: datetime, max_requests: int
) -> Result:
    result = Result()
    began = start.timestamp()
    clock = began
    session, token = site.session(clock)
    addresses, usernames = scenario.addresses(), scenario.usernames()
    hashes_before = site.hashes()
    own_logins = refused_in_a_row = 0
    while clock - began < HOUR and result.tries < max_requests:
        address = next(addresses)
        response = site.post(session, token, next(usernames), WRONG, address, clock)
        result.tries += 1
        result.statuses[response.status_code] = (
            result.statuses.get(response.status_code, 0) + 1
        )
        clock += PACE
        if CHALLENGED in response.text:
            # The account's budget is spent (or attack mode is on): every
            # further try must solve the challenge, which this attacker does
            # not. Nothing more is checked within the valid window.
            result.challenged = True
            break
        refused = response.status_code in (403, 429)
        refused_in_a_row = refused_in_a_row + 1 if refused else 0
        if refused and (not scenario.rotates or refused_in_a_row >= GIVE_UP_AFTER):
            # Its address is locked out, or every address it moves to is
            # (the username is): waiting is all it can do.
            clock += float(response.headers.get("Retry-After") or FALLBACK_WAIT)
            refused_in_a_row = 0
            continue
        if refused:
            continue
        if scenario.own_login_every and result.tries % scenario.own_login_every == 0:
            own, own_token = site.session(clock)
            signed_in = site.post(own, own_token, OWN, PASSWORD, address, clock)
            own_logins += signed_in.status_code == 302
            clock += PACE
    result.virtual_seconds = clock - began
    result.checks = site.hashes() - hashes_before - own_logins
    return result


def run(max_requests: int, sites: dict[str, dict[str, str]] | None = None) -> dict:
    """{scenario: {site: Result}} for every scenario against every site."""
    sites = sites or SITES
    with tempfile.TemporaryDirectory(prefix="loginlimit-walkaround-") as tmp:
        template = prepare(Path(tmp))
        servers = {
            name: Site(env, Path(tmp), number, template)
            for number, (name, env) in enumerate(sites.items())
        }
        try:
            GunicornServer.start_all([site.server for site in servers.values()])
            results: dict[str, dict[str, Result]] = {}
            for number, (name, scenario) in enumerate(SCENARIOS.items()):
                # Days apart: nothing of the last scenario is still counted.
                start = START + timedelta(days=5 * number)
                results[name] = {
                    site_name: attack(site, scenario, start, max_requests)
                    for site_name, site in servers.items()
                }
        finally:
            GunicornServer.stop_all([site.server for site in servers.values()])
            for site in servers.values():
                site.server.close()
    return results


def table(results: dict, markdown: bool) -> str:
    sites = list(next(iter(results.values())))
    lines = []
    header = ["attack", *sites]
    rows = []
    for name, by_site in results.items():
        cells = []
        for site in sites:
            result = by_site[site]
            figure = f"{result.per_hour:,.0f}"
            cells.append(f"≈ {figure}" if result.capped else figure)
        rows.append([name, *cells])
    if markdown:
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "---|" * len(header))
        lines += ["| " + " | ".join(row) + " |" for row in rows]
    else:
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            lines.append(
                "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))
            )
    lines.append("")
    lines.append(
        "Password checks of the victim per hour of attack (one try every "
        f"{PACE} s: at most {HOUR / PACE:,.0f} an hour); ≈: extrapolated from "
        "the requests played."
    )
    for name, scenario in SCENARIOS.items():
        lines.append(f"- {name}: {scenario.title}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.walkaround", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--requests", type=int, default=4000, help="requests per attack at most"
    )
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args(argv)
    os.environ.setdefault("PYTHONHASHSEED", "0")
    load_at_start = machine.load()
    began = datetime.now(UTC)
    results = run(args.requests)
    about = [
        ("Date", f"{began:%Y-%m-%d %H:%M} UTC"),
        *machine.describe([f"SQLite {sqlite3.sqlite_version}"], load_at_start),
    ]
    if args.markdown:
        print("| | |\n|---|---|")
        print("\n".join(f"| {key} | {value} |" for key, value in about))
    else:
        print("\n".join(f"{key + ':':<20}{value}" for key, value in about))
    print()
    print(table(results, args.markdown))
    return 0


if __name__ == "__main__":
    sys.exit(main())
