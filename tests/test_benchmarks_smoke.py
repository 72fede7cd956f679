"""The benchmark command still runs from end to end (`python -m benchmarks`,
docs/benchmarks.md). At its tiniest sizes, on SQLite only, with a cheap
password hasher: the numbers mean nothing here and are not checked (timings
are never asserted in the suite); what is checked is that every measurement
ran and is in the table, next to its target."""

from __future__ import annotations

import json

import pytest

from benchmarks import run

ROWS = [
    # login cost, plugin vs plain django-axes
    "refused vs failed login (plugin)",
    "lockout check vs password check, on their own",
    "failed login: plugin vs plain django-axes",
    "successful login: plugin vs plain django-axes",
    "refused login: plugin vs plain django-axes",
    # SQL queries per request
    "failed login  ",
    "refused login  ",
    "successful login  ",
    "admin page view (/admin/pages/)",
    "admin dashboard (/admin/)",
    "public page (/)",
    # distributed attack under gunicorn
    "refused requests per second: plugin  ",
    "refused requests per second: plain django-axes",
    # 1,000 vs 1,000,000 rows (here 10 vs 100)
    "lockout check: storage.peek()",
    "lockout check: storage.begin_attempt(), refused",
    "refused login (whole request)",
    "report, 1st page: active lockouts",
    "report, 1st page: lockout history",
    "report, 1st page: failed logins",
    # timing of known vs unknown usernames
    "refused login, lockout method ip ",
    "refused login, lockout method username",
    "refused login, lockout method ip_and_username",
    "refused login, lockout method ip_or_username",
    "failed login (password checked)",
]
SECTIONS = [
    "[Login cost",
    "[SQL queries per request",
    "[Distributed attack, 50 addresses",
    "[Stored rows: 10 vs 100",
    "[Timing: existing vs non-existing username",
]


@pytest.fixture(scope="module")
def benchmark_output(tmp_path_factory):
    raw = tmp_path_factory.mktemp("benchmark") / "results.json"
    from contextlib import redirect_stdout
    from io import StringIO

    printed = StringIO()
    with redirect_stdout(printed):
        status = run.main(["--tiny", "--no-postgres", "--json", str(raw)])
    assert status == 0
    return printed.getvalue(), json.loads(raw.read_text())


def test_the_table_has_every_measurement_next_to_its_target(benchmark_output):
    table, _ = benchmark_output
    lines = table.splitlines()
    for section in SECTIONS:
        assert any(line.startswith(section) for line in lines), section
    for label in ROWS:
        matching = [line for line in lines if line.startswith(label)]
        assert len(matching) == 1, (label, matching)
        # A measured value and a target follow the label.
        assert len(matching[0][len(label) :].split("  ")) > 2, matching[0]


def test_the_machine_it_ran_on_is_described(benchmark_output):
    table, results = benchmark_output
    for key in ("CPU:", "Python:", "Django:", "Wagtail:", "Databases:"):
        assert any(line.startswith(key) for line in table.splitlines()), key
    assert "SQLite" in dict(results["machine"])["Databases"]


def test_every_request_of_the_attack_was_refused(benchmark_output):
    _, results = benchmark_output
    sites = results["attack"]["sqlite"]
    assert {"plugin", "axes"} <= set(sites)
    for attack in sites.values():
        assert attack["requests"] > 0
        assert attack["not_refused"] == 0, attack["statuses"]


def test_the_walkaround_attacks_run_under_gunicorn_and_count_checks():
    """`python -m benchmarks.walkaround` at 30 requests per attack: every
    attack against every site, through gunicorn. What is asserted is the
    victim's password checks the counting hasher saw (counts, not timings):
    the hour is played in full where the attacker mostly waits, and cut at 30
    tries where it rotates past a lockout (256 refusals before it waits) or
    where every try is checked (plain axes' rotation)."""
    from benchmarks import walkaround

    results = walkaround.run(30)
    checks = {
        attack: {site: result.checks for site, result in by_site.items()}
        for attack, by_site in results.items()
    }
    sites = ["ip", "username", "ip_and_username", "ip_or_username"]
    # The account budget (16 with the defaults) comes before the network
    # count (20): past it every try must pass the challenge, which the
    # attack does not solve.
    expected_rotation = dict(zip(sites, [16, 4, 16, 4], strict=True))
    expected_spray = dict(zip(sites, [12, 30, 30, 12], strict=True))
    assert checks == {
        "whitelisted name": {
            **{f"plugin, {m}": 12 for m in sites},
            "plain django-axes": 12,
        },
        "own-account reset": {
            **{f"plugin, {m}": 12 for m in sites},
            "plain django-axes": 12,
        },
        **{
            rotation: {
                **{f"plugin, {m}": expected_rotation[m] for m in sites},
                "plain django-axes": 30,
            }
            for rotation in ("rotation in a /24", "rotation in a /48")
        },
        "spray over usernames": {
            **{f"plugin, {m}": expected_spray[m] for m in sites},
            "plain django-axes": 12,
        },
    }
    for by_site in results.values():
        for result in by_site.values():
            assert set(result.statuses) <= {200, 302, 429}, result.statuses


def test_the_stuffing_benchmark_runs_and_the_owner_always_gets_in():
    """`python -m benchmarks.stuffing` for a few seconds: real PBKDF2 under
    gunicorn. What is asserted is what a person would notice (counts and
    statuses, never timings): the owner's known device signs in every time,
    during the attack and through the 16-request lockout of its name."""
    from benchmarks import stuffing

    # Attack mode after the first failure, so that these few seconds reach
    # it however slow the machine (a PBKDF2 check each until then).
    result = stuffing.run(
        seconds=6,
        threads=1,
        owner_logins=3,
        settings={"LOGINLIMIT_ATTACK_THRESHOLD": "1"},
    )
    assert result.attack_requests > 0
    assert result.answers["challenged (no password checked)"] > 0
    assert result.owner_statuses == {302: len(result.attack_ms)}
    assert len(result.idle_ms) == 3
    assert result.lockout["stranger"] == 429
    assert result.lockout["owner"] == 302
    assert "owner's login, under attack" in stuffing.table(result, markdown=True)
