"""The security log and the shipped fail2ban filter, checked with Debian's real
`fail2ban-regex` on a log file the app wrote through Django's LOGGING during real
failed logins (Django test client).

Skipped when fail2ban is not installed, except in CI (CI=true), where a missing
binary fails the run."""

import logging
import os
import random
import re
import shutil
import subprocess
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils.log import configure_logging

from wagtail_loginlimit import security_log
from wagtail_loginlimit.clients import Client

ROOT = Path(__file__).resolve().parent.parent
FILTER = ROOT / "contrib" / "fail2ban" / "filter.d" / "wagtail-loginlimit.conf"
JAIL = ROOT / "contrib" / "fail2ban" / "jail.d" / "wagtail-loginlimit.conf"
DOCS = ROOT / "docs" / "operations.md"

ATTACKER = "198.51.100.4"
NEIGHBOUR = "198.51.100.5"
FORGED = "203.0.113.9"  # never tries to log in; must never be matched
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
]


@pytest.fixture
def fail2ban_regex():
    path = shutil.which("fail2ban-regex")
    if path is None:
        message = "fail2ban-regex is missing (Debian package fail2ban)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}: CI must install it.")
        pytest.skip(message)

    def run(logfile: Path, mode: str | None = None) -> list[str]:
        """The address of every line the filter matches, in order."""
        filter_arg = f"{FILTER}[mode={mode}]" if mode else str(FILTER)
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
    for mode in ("lockout", "aggressive"):
        assert FORGED not in fail2ban_regex(security_logfile, mode)


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
    exactly one line per failure, always the attacker's address."""
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
            client = Client.build(ATTACKER, username)
            security_log.log_failure(client, 1, 3)
            security_log.log_refused(client, "locked")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        handler.close()

    assert len(log_lines(logfile)) == 2 * len(usernames)
    assert fail2ban_regex(logfile) == [ATTACKER] * len(usernames)
    assert fail2ban_regex(logfile, "aggressive") == [ATTACKER] * (2 * len(usernames))


def test_the_example_jails_load_with_the_filter(tmp_path):
    """`fail2ban-client --test` accepts the example jails with the shipped
    filter (in a copy of the system's fail2ban configuration)."""
    client = shutil.which("fail2ban-client")
    system_config = Path("/etc/fail2ban")
    if client is None or not (system_config / "jail.conf").exists():
        if os.environ.get("CI") == "true":
            pytest.fail("fail2ban is missing: CI must install it.")
        pytest.skip("fail2ban is not installed")
    config = tmp_path / "fail2ban"
    shutil.copytree(system_config, config)
    for extra in (config / "jail.d").iterdir():  # the distribution's own jails
        extra.unlink()
    logfile = tmp_path / "loginlimit.log"
    logfile.write_text("")
    shutil.copy(FILTER, config / "filter.d" / FILTER.name)
    jail = JAIL.read_text().replace("/var/log/wagtail/loginlimit.log", str(logfile))
    (config / "jail.d" / JAIL.name).write_text(
        jail.replace("enabled  = false", "enabled  = true")
    )
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
    assert "['add', 'wagtail-loginlimit', 'auto']" in dump
    assert "['add', 'wagtail-loginlimit-lockout', 'auto']" in dump
    assert "loginlimit lockout ip=<ADDR>" in dump
