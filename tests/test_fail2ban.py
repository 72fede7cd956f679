"""The security log and the shipped fail2ban filter, checked with Debian's real
`fail2ban-regex` on a log file the app wrote through Django's LOGGING during real
failed logins (Django test client).

Skipped when fail2ban is not installed, except in CI (CI=true), where a missing
binary fails the run. The firewall test runs fail2ban's server in a private
network namespace and is skipped where none can be made: it never touches the
machine's own firewall."""

import configparser
import logging
import os
import random
import re
import shutil
import subprocess
import sys
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils.log import configure_logging

from wagtail_loginlimit import security_log
from wagtail_loginlimit.clients import ClientIdentity

ROOT = Path(__file__).resolve().parent.parent
CONTRIB = ROOT / "contrib" / "fail2ban"
FILTER = CONTRIB / "filter.d" / "wagtail-loginlimit.conf"
JAIL = CONTRIB / "jail.d" / "wagtail-loginlimit.conf"
ACTION = CONTRIB / "action.d" / "wagtail-loginlimit-nftables.conf"
DOCS = ROOT / "docs" / "operations.md"

ATTACKER = "198.51.100.4"
NEIGHBOUR = "198.51.100.5"
FORGED = "203.0.113.9"  # never tries to log in; must never be matched
FORGED_NET = "::/0"  # a network no line may ever name

# An attacker rotating through the addresses of its /64, and someone else.
V6_ATTACKER = "2001:db8:1:2::7"
V6_ROTATED = "2001:db8:1:2:ffff:ffff:ffff:fffe"
V6_NETWORK = "2001:db8:1:2::/64"
V6_STRANGER = "2001:db8:1:3::7"
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (?:WARNING|INFO) loginlimit ")

# Usernames that try to make fail2ban see FORGED: new lines, quotes, escapes,
# a timestamp, whole copies of log lines. (A NUL never gets this far: Django's
# form refuses it before any password is checked.)
HOSTILE_USERNAMES = [
    f'x\nloginlimit failure ip={FORGED} failures=1 remaining=3 user="a"',
    f"x\r\n2025-01-01T00:00:00Z WARNING loginlimit failure ip={FORGED} failures=1 "
    'remaining=3 user="a"',
    f"x\rloginlimit failure ip={FORGED}",
    f'" failures=1 remaining=3 user="\nloginlimit failure ip={FORGED} failures=1 '
    'remaining=3 user="',
    f'\\" ip={FORGED} \\\\"',
    f"loginlimit failure ip={FORGED} failures=1 remaining=3 user=",
    f"2030-01-01 00:00:00 loginlimit lockout ip={FORGED} by=ip",
    f"\u2028loginlimit failure ip={FORGED}\u0085\x0b\x0c",
    f"x\x1b[2K\rloginlimit failure ip={FORGED}",  # a terminal escape
    # A network of its own choosing, in front of or instead of the server's.
    f'" net={FORGED_NET} user="',
    f'x" net={FORGED}/0 user="y',
    f"net={FORGED_NET}",
    f'x\nloginlimit failure ip={FORGED} failures=1 remaining=3 net={FORGED}/8 user="a"',
    f"x\rloginlimit refused ip={FORGED} reason=locked net={FORGED_NET} user=",
]


@pytest.fixture
def fail2ban_regex():
    path = shutil.which("fail2ban-regex")
    if path is None:
        message = "fail2ban-regex is missing (Debian package fail2ban)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}: CI must install it.")
        pytest.skip(message)

    def run(logfile: Path, mode: str | None = None, ban: str | None = None):
        """What fail2ban counts and bans for every line the filter matches, in
        order: an address, or a network (`2001:db8:1:2::/64`) with
        `ban="network"`."""
        options = []
        if mode:
            options.append(f"mode={mode}")
        if ban:
            options.append(f"ban={ban}")
        filter_arg = f"{FILTER}[{', '.join(options)}]" if options else str(FILTER)
        result = subprocess.run(  # noqa: S603 (fixed binary, our own arguments)
            [path, "-o", "ip", str(logfile), filter_arg],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout.split()

    return run


def documented_logging(logfile: Path) -> dict:
    """The `LOGGING` example of docs/operations.md, with its file moved to
    `logfile`: the test uses exactly what the documentation tells users."""
    blocks = re.findall(r"```python\n(.*?)```", DOCS.read_text(), flags=re.S)
    [source] = [block for block in blocks if block.startswith("LOGGING = {")]
    source = source.replace("/var/log/wagtail/loginlimit.log", str(logfile))
    namespace: dict = {}
    exec(source, namespace)  # noqa: S102 (our own documentation)
    return namespace["LOGGING"]


@pytest.fixture
def security_logfile(tmp_path, settings):
    """Django LOGGING configured as documented, writing to a temporary file."""
    logfile = tmp_path / "loginlimit.log"
    configure_logging(settings.LOGGING_CONFIG, documented_logging(logfile))
    yield logfile
    logger = logging.getLogger("wagtail_loginlimit.security")
    for handler in logger.handlers[:]:
        logger.removeHandler(handler)
        handler.close()
    logger.setLevel(logging.NOTSET)
    configure_logging(settings.LOGGING_CONFIG, settings.LOGGING)


@pytest.fixture
def attack(db, login, clock):
    def go(usernames, ip=ATTACKER):
        return [login(username, ip=ip).status_code for username in usernames]

    return go


def log_lines(logfile: Path) -> list[str]:
    return logfile.read_text(encoding="ascii").splitlines()


def test_fail2ban_finds_the_attacker_and_only_the_attacker(
    attack, settings, security_logfile, fail2ban_regex
):
    settings.WAGTAIL_LOGINLIMIT = {"allowed_retries": 50}
    attack(["admin", "root", *HOSTILE_USERNAMES])
    attack(["editor", "editor"], ip=NEIGHBOUR)

    attacker_failures = 2 + len(HOSTILE_USERNAMES)
    lines = log_lines(security_logfile)
    # One line per failure, each starting with its timestamp: no username made
    # a line of its own.
    assert len(lines) == attacker_failures + 2
    assert all(TIMESTAMP.match(line) for line in lines), lines
    assert all(FORGED not in line.split(" user=", 1)[0] for line in lines)

    matched = fail2ban_regex(security_logfile)
    assert Counter(matched) == {ATTACKER: attacker_failures, NEIGHBOUR: 2}
    # Banning networks: an IPv4 client's network is its address, and no
    # username's `net=` is ever read.
    assert fail2ban_regex(security_logfile, ban="network") == matched
    for mode in ("lockout", "aggressive"):
        for ban in ("address", "network"):
            found = fail2ban_regex(security_logfile, mode, ban)
            assert not {FORGED, FORGED_NET, f"{FORGED}/8"} & set(found)


def test_lockout_mode_matches_each_lockout_once(
    attack, settings, security_logfile, fail2ban_regex
):
    # Locked by username: the hostile username is in the lockout line too.
    settings.WAGTAIL_LOGINLIMIT = {"lockout_method": "username"}
    hostile = HOSTILE_USERNAMES[1]
    assert attack([hostile] * 4) == [200, 200, 200, 429]
    assert attack(["admin"] * 4, ip=NEIGHBOUR) == [200, 200, 200, 429]

    assert fail2ban_regex(security_logfile, "lockout") == [ATTACKER, NEIGHBOUR]
    assert Counter(fail2ban_regex(security_logfile)) == {ATTACKER: 4, NEIGHBOUR: 4}


def test_aggressive_mode_also_counts_refused_tries(
    attack, settings, security_logfile, fail2ban_regex, clock
):
    assert attack(["admin"] * 6) == [200, 200, 200, 429, 429, 429]
    settings.WAGTAIL_LOGINLIMIT = {"blacklist": [NEIGHBOUR]}
    assert attack(["admin"], ip=NEIGHBOUR) == [403]

    assert Counter(fail2ban_regex(security_logfile)) == {ATTACKER: 4}
    assert Counter(fail2ban_regex(security_logfile, "aggressive")) == {
        ATTACKER: 6,
        NEIGHBOUR: 1,
    }


def test_ipv6_clients_are_matched(attack, security_logfile, fail2ban_regex):
    attack(["admin", "admin"], ip="2001:db8::7")
    assert fail2ban_regex(security_logfile) == ["2001:db8::7", "2001:db8::7"]


# --- banning networks: fail2ban follows the app's IPv6 grouping ---


def test_each_line_names_the_network_the_app_counts(attack, settings, security_logfile):
    settings.WAGTAIL_LOGINLIMIT = {"allowed_retries": 2}
    assert attack(["admin"], ip=V6_ATTACKER) == [200]
    # Another address of the same /64: the app counts them as one client.
    assert attack(["admin", "admin"], ip=V6_ROTATED) == [429, 429]
    attack(["admin"])

    fields = [line.split(" loginlimit ", 1)[1] for line in log_lines(security_logfile)]
    assert fields == [
        f"failure ip={V6_ATTACKER} failures=1 remaining=1 entry=login "
        f'net={V6_NETWORK} user="admin"',
        f"failure ip={V6_ROTATED} failures=2 remaining=0 entry=login "
        f'net={V6_NETWORK} user="admin"',
        f"lockout ip={V6_ROTATED} by=ip until=2025-03-01T12:20:00+00:00 long=no "
        f'failures=2 entry=login net={V6_NETWORK} user="admin"',
        f'refused ip={V6_ROTATED} reason=locked entry=login net={V6_NETWORK} user="admin"',
        f"failure ip={ATTACKER} failures=1 remaining=1 entry=login "
        f'net={ATTACKER}/32 user="admin"',
    ]


def test_other_entry_points_are_matched_alike(
    db, client, clock, security_logfile, fail2ban_regex
):
    """Guesses at a privacy password (and any entry point of the API) are
    failures fail2ban counts, like failed logins."""
    from wagtail.models import Page, PageViewRestriction

    page = Page.objects.get(depth=2)
    restriction = PageViewRestriction.objects.create(
        page=page, restriction_type=PageViewRestriction.PASSWORD, password="s"
    )
    url = f"/_util/authenticate_with_password/{restriction.pk}/{page.pk}/"
    for _ in range(5):
        client.post(url, {"password": "x", "return_url": "/"}, REMOTE_ADDR=ATTACKER)
    lines = log_lines(security_logfile)
    assert all(" entry=page_password " in line for line in lines)
    assert fail2ban_regex(security_logfile) == [ATTACKER] * 4
    assert fail2ban_regex(security_logfile, "lockout") == [ATTACKER]
    assert fail2ban_regex(security_logfile, "aggressive") == [ATTACKER] * 5


def test_stale_session_cookies_are_banned_only_at_their_lockout(
    db, client, settings, clock, security_logfile, fail2ban_regex
):
    """Session cookies that name no session: their failure lines are ignored
    (a whole office's after a session reset), their lockout is matched."""
    import secrets

    settings.WAGTAIL_LOGINLIMIT = {"session_cookie_retries": 5}
    for _ in range(5):
        client.cookies[settings.SESSION_COOKIE_NAME] = secrets.token_hex(16)
        client.get("/admin/", REMOTE_ADDR=ATTACKER)
    lines = log_lines(security_logfile)
    assert sum(" failure " in line for line in lines) == 5
    assert fail2ban_regex(security_logfile) == []
    assert fail2ban_regex(security_logfile, "lockout") == [ATTACKER]


def test_a_locked_out_owner_asking_for_sign_in_links_is_not_banned(
    db, client, settings, security_logfile, fail2ban_regex
):
    """Requests for an emailed sign-in link are counted (per IP and name) but
    are no guesses: only the lockout they reach is matched."""
    for n in range(4):
        client.post(
            "/admin/login/",
            {"loginlimit_sign_in_link": f"name{n}"},
            REMOTE_ADDR=ATTACKER,
        )
    lines = log_lines(security_logfile)
    assert sum(" failure " in line and "entry=sign_in_link" in line for line in lines)
    assert fail2ban_regex(security_logfile) == []
    assert fail2ban_regex(security_logfile, "lockout") == [ATTACKER]


def test_network_bans_count_a_rotating_attacker_as_one(
    attack, settings, security_logfile, fail2ban_regex
):
    """Two addresses of one /64 are two clients to an address jail, one to a
    network jail: the network's failures add up to one count and one ban."""
    settings.WAGTAIL_LOGINLIMIT = {"allowed_retries": 50}
    attack(["admin", "root"], ip=V6_ATTACKER)
    attack(["admin", *HOSTILE_USERNAMES[-5:]], ip=V6_ROTATED)
    attack(["editor"], ip=V6_STRANGER)
    attack(["editor"])

    by_address = Counter(fail2ban_regex(security_logfile))
    assert by_address == {V6_ATTACKER: 2, V6_ROTATED: 6, V6_STRANGER: 1, ATTACKER: 1}
    by_network = Counter(fail2ban_regex(security_logfile, ban="network"))
    assert by_network == {V6_NETWORK: 8, "2001:db8:1:3::/64": 1, ATTACKER: 1}


def test_network_bans_in_lockout_and_aggressive_modes(
    attack, security_logfile, fail2ban_regex
):
    assert attack(["admin"] * 3, ip=V6_ATTACKER) == [200, 200, 200]
    assert attack(["admin"] * 3, ip=V6_ROTATED) == [429, 429, 429]

    assert fail2ban_regex(security_logfile, "lockout", "network") == [V6_NETWORK]
    assert fail2ban_regex(security_logfile, "lockout") == [V6_ROTATED]
    assert fail2ban_regex(security_logfile, "aggressive", "network") == [V6_NETWORK] * 6


@pytest.mark.parametrize(
    ("ipv6_prefix", "network"),
    [(48, "2001:db8:1::/48"), (128, V6_ATTACKER)],
)
def test_network_bans_follow_ipv6_prefix(
    ipv6_prefix, network, attack, settings, security_logfile, fail2ban_regex
):
    settings.WAGTAIL_LOGINLIMIT = {"ipv6_prefix": ipv6_prefix}
    attack(["admin"], ip=V6_ATTACKER)
    assert fail2ban_regex(security_logfile, ban="network") == [network]


def test_the_filter_still_reads_lines_written_before_net(tmp_path, fail2ban_regex):
    """A log that began before the upgrade (lines without `net=`) keeps
    counting in address jails; network jails only read the new lines."""
    logfile = tmp_path / "upgraded.log"
    logfile.write_text(
        "2025-05-01T12:00:00Z WARNING loginlimit failure ip=198.51.100.4 "
        'failures=2 remaining=2 user="bob"\n'
        "2025-05-01T12:00:09Z WARNING loginlimit lockout ip=198.51.100.4 by=ip "
        'until=2025-05-01T12:20:09+00:00 long=no failures=4 user="bob"\n'
        "2025-05-01T12:00:15Z INFO loginlimit refused ip=198.51.100.4 "
        'reason=locked user="bob"\n'
        f"2025-05-01T12:01:00Z WARNING loginlimit failure ip={V6_ATTACKER} "
        f'failures=1 remaining=3 net={V6_NETWORK} user="bob"\n',
        encoding="ascii",
    )
    assert fail2ban_regex(logfile) == [ATTACKER, V6_ATTACKER]
    assert fail2ban_regex(logfile, "lockout") == [ATTACKER]
    assert fail2ban_regex(logfile, "aggressive") == [ATTACKER, ATTACKER, V6_ATTACKER]
    assert fail2ban_regex(logfile, ban="network") == [V6_NETWORK]


def test_the_network_field_is_only_ever_a_network():
    """`net=` is the client's counted network re-parsed, never text passed in."""
    assert security_log.network(ClientIdentity.build("::ffff:198.51.100.4", "a")) == (
        f"{ATTACKER}/32"
    )
    assert security_log.network(ClientIdentity.build(None, "a")) == "-"
    assert security_log.network(ClientIdentity.build("not an address", "a")) == "-"
    forged = ClientIdentity("198.51.100.4", f"{FORGED}/0 user=", "a", "a")
    assert security_log.network(forged) == "-"


def test_timestamps_are_utc_whatever_the_time_zone(
    attack, settings, security_logfile, clock
):
    settings.TIME_ZONE = "America/New_York"
    clock.shift(timedelta(hours=1))  # 13:00 UTC, 08:00 in New York
    attack(["admin"])
    [line] = log_lines(security_logfile)
    assert line.startswith("2025-03-01T13:00:00Z WARNING loginlimit failure ")


def test_no_user_text_can_forge_a_match(tmp_path, fail2ban_regex):
    """Thousands of usernames built from the dangerous pieces, logged by the
    real log functions through the documented formatter: fail2ban matches
    exactly one line per failure, always the attacker's address or network."""
    pieces = [
        "\n",
        "\r",
        "\r\n",
        '"',
        "\\",
        '\\"',
        " ",
        "=",
        "\x00",
        "\x1b",
        "\u2028",
        "\x85",
        "ip=",
        "net=",
        " net=",
        "/64",
        FORGED_NET,
        FORGED,
        "loginlimit failure ",
        "loginlimit lockout ",
        "user=",
        'user="',
        " failures=1 remaining=3",
        "2025-01-01T00:00:00Z ",
        "WARNING ",
        "é",
        "\U0001f600",
    ]
    rng = random.Random(20250301)
    usernames = [
        "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        for _ in range(2000)
    ]
    logfile = tmp_path / "forged.log"
    handler = logging.FileHandler(logfile, encoding="ascii")
    handler.setFormatter(security_log.UTCFormatter())
    logger = security_log.logger
    logger.addHandler(handler)
    old_level = logger.level
    logger.setLevel(logging.INFO)
    try:
        for username in usernames:
            for address in (ATTACKER, V6_ATTACKER):
                client = ClientIdentity.build(address, username)
                security_log.log_failure(client, 1, 3)
                security_log.log_refused(client, "locked")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        handler.close()

    count = len(usernames)
    assert len(log_lines(logfile)) == 4 * count
    assert fail2ban_regex(logfile) == [ATTACKER, V6_ATTACKER] * count
    assert fail2ban_regex(logfile, "aggressive") == (
        [ATTACKER, ATTACKER, V6_ATTACKER, V6_ATTACKER] * count
    )
    assert fail2ban_regex(logfile, ban="network") == [ATTACKER, V6_NETWORK] * count
    assert fail2ban_regex(logfile, "aggressive", "network") == (
        [ATTACKER, ATTACKER, V6_NETWORK, V6_NETWORK] * count
    )


def fail2ban_config(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the system's fail2ban configuration with the shipped filter,
    action and example jails (every jail enabled, reading `loginlimit.log`)."""
    system_config = Path("/etc/fail2ban")
    if (
        shutil.which("fail2ban-client") is None
        or not (system_config / "jail.conf").exists()
    ):
        if os.environ.get("CI") == "true":
            pytest.fail("fail2ban is missing: CI must install it.")
        pytest.skip("fail2ban is not installed")
    config = tmp_path / "fail2ban"
    shutil.copytree(system_config, config)
    for extra in (config / "jail.d").iterdir():  # the distribution's own jails
        extra.unlink()
    logfile = tmp_path / "loginlimit.log"
    logfile.write_text("")
    for shipped in (FILTER, ACTION):
        shutil.copy(shipped, config / shipped.parent.name / shipped.name)
    jail = JAIL.read_text().replace("/var/log/wagtail/loginlimit.log", str(logfile))
    jail = re.sub(r"^enabled(\s*)= false$", r"enabled\1= true", jail, flags=re.M)
    (config / "jail.d" / JAIL.name).write_text(jail)
    (config / "fail2ban.local").write_text("[Definition]\ndbfile = :memory:\n")
    return config, logfile


def example_jails() -> list[str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read_string(JAIL.read_text())
    return parser.sections()


def test_the_example_jails_load_with_the_filter(tmp_path):
    """`fail2ban-client --test` accepts the example jails with the shipped
    filter and action (in a copy of the system's fail2ban configuration)."""
    config, _ = fail2ban_config(tmp_path)
    client = shutil.which("fail2ban-client")
    result = subprocess.run(  # noqa: S603 (fixed binary, our own arguments)
        [client, "-c", str(config), "--test"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    dump = subprocess.run(  # noqa: S603
        [client, "-c", str(config), "--dump"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    ).stdout
    assert example_jails() == [
        "wagtail-loginlimit",
        "wagtail-loginlimit-lock",
        "wagtail-loginlimit-net",
    ]
    for jail in example_jails():
        assert f"['add', '{jail}', 'auto']" in dump
    assert "loginlimit lockout ip=<ADDR>" in dump
    assert "net=<SUBNET>" in dump
    assert "flags interval" in dump


def test_the_example_jail_names_fit_iptables_chain_names():
    """fail2ban's iptables actions name their chain `f2b-<jail>`, and iptables
    refuses chain names of 29 characters or more: a longer jail bans nothing."""
    for jail in example_jails():
        assert len(f"f2b-{jail}") < 29, jail


NAMESPACE_COMMANDS = (
    ("unshare", "--net"),
    ("unshare", "--user", "--map-root-user", "--net"),
)


@pytest.fixture
def private_network():
    """The command prefix that runs a program in a new, empty network
    namespace, whose firewall is its own and vanishes with it."""
    if shutil.which("nft") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("nft is missing (Debian package nftables): CI must install it.")
        pytest.skip("nft is not installed (Debian package nftables)")
    for prefix in NAMESPACE_COMMANDS:
        if shutil.which(prefix[0]) is None:
            continue
        probe = subprocess.run(  # noqa: S603 (fixed binaries)
            [*prefix, "nft", "list", "ruleset"],
            capture_output=True,
            timeout=60,
            check=False,
        )
        if probe.returncode == 0:
            return prefix
    pytest.skip("no private network namespace can be made here")


FIREWALL_SCRIPT = """
set -eu
f2b() { fail2ban-client -c "$CONFIG" -s "$RUN/sock" -p "$RUN/pid" "$@"; }
f2b --logtarget "$RUN/fail2ban.log" -x start >/dev/null
trap 'f2b stop >/dev/null' EXIT
f2b set wagtail-loginlimit-net banip "$NETWORK" >/dev/null
f2b set wagtail-loginlimit-net banip "$ADDRESS" >/dev/null
nft list table inet f2b-table
"""


def test_the_network_jail_bans_a_64_in_nftables(tmp_path, private_network):
    """The real fail2ban server, with the example network jail and its shipped
    nftables action, puts a /64 (what the filter reads from `net=`) and a
    single address into the firewall (in a private network namespace)."""
    config, _ = fail2ban_config(tmp_path)
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    result = subprocess.run(  # noqa: S603 (fixed binaries, our own script)
        [*private_network, "sh", "-c", FIREWALL_SCRIPT],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={
            **os.environ,
            "CONFIG": str(config),
            "RUN": str(run_dir),
            "NETWORK": V6_NETWORK,
            "ADDRESS": ATTACKER,
        },
    )
    server_log = run_dir / "fail2ban.log"
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ERROR" not in server_log.read_text(), server_log.read_text()
    ruleset = result.stdout
    assert re.search(
        rf"set addr6-set-wagtail-loginlimit-net \{{[^}}]*flags interval\s+"
        rf"elements = \{{ {re.escape(V6_NETWORK)} \}}",
        ruleset,
    ), ruleset
    assert re.search(
        rf"set addr-set-wagtail-loginlimit-net \{{[^}}]*"
        rf"elements = \{{ {re.escape(ATTACKER)} \}}",
        ruleset,
    ), ruleset
    assert "ip6 saddr @addr6-set-wagtail-loginlimit-net reject" in ruleset


# --- the sandbox's own log ------------------------------------------------------

SANDBOX = ROOT / "sandbox"
# The sandbox's settings as they are; only its database is created from the
# models instead of by running Wagtail's ~150 migrations, to keep this quick.
SANDBOX_SETTINGS = """
from sandbox.settings import *  # noqa: F403


class _NoMigrations(dict):
    def __contains__(self, item):
        return True

    def __getitem__(self, item):
        return None


MIGRATION_MODULES = _NoMigrations()
"""
SANDBOX_ATTACK = f"""
from django.core.management import call_command
from django.test import Client

call_command("migrate", run_syncdb=True, verbosity=0)
client = Client()
for username in ["admin", "root", "editor", "bob", "bob"]:
    client.post(
        "/admin/login/",
        {{"username": username, "password": "wrong"}},
        REMOTE_ADDR="{ATTACKER}",
        HTTP_HOST="127.0.0.1",
    )
"""


def test_the_sandbox_log_matches_the_shipped_filter(tmp_path, fail2ban_regex):
    """Five failed logins against the sandbox (its own LOGGING, in a process of
    its own): its console output and its LOGINLIMIT_LOG_FILE both give
    fail2ban the attacker's four failures and one lockout."""
    (tmp_path / "sandbox_nomigrations.py").write_text(SANDBOX_SETTINGS)
    logfile = tmp_path / "loginlimit.log"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("LOGINLIMIT_", "DJANGO_")) and key != "DATABASE_URL"
    }
    env.update(
        {
            "PYTHONPATH": os.pathsep.join([str(ROOT), str(tmp_path)]),
            "DJANGO_SETTINGS_MODULE": "sandbox_nomigrations",
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "CACHE_URL": "locmemcache://",
            "LOGINLIMIT_LOG_FILE": str(logfile),
        }
    )
    result = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [sys.executable, str(SANDBOX / "manage.py"), "shell", "-c", SANDBOX_ATTACK],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=env,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    console = tmp_path / "console.log"
    console.write_text(result.stderr)
    # The console also carries other loggers' lines (django.request…): those
    # are fail2ban's "missed" lines, never matches.
    assert "loginlimit failure" in result.stderr
    for log in (console, logfile):
        assert fail2ban_regex(log) == [ATTACKER] * 4
        assert fail2ban_regex(log, mode="lockout") == [ATTACKER]
        assert fail2ban_regex(log, ban="network") == [ATTACKER] * 4
