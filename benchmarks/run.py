"""Run every benchmark side by side and print a table of ratios and targets.

    python -m benchmarks               the full run (about 10 minutes on 2 cores)
    python -m benchmarks --quick       100,000 rows instead of 1,000,000, fewer repeats
    python -m benchmarks --markdown    the table as Markdown (for docs/benchmarks.md)

Each measurement runs in its own worker process (`benchmarks.worker`) with the
settings of the site it measures (`benchmarks.settings.plugin`, `.axes`,
`.bare`, all built on the sandbox's settings) and its own fresh database, so
that sites with different settings are compared in one run. See
docs/benchmarks.md for what each row means.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as `python benchmarks/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import attack, machine  # noqa: E402
from benchmarks.databases import PostgresDatabases, SQLiteDatabases  # noqa: E402
from benchmarks.report import Table, build_table  # noqa: E402
from benchmarks.servers import REPO, django_environ  # noqa: E402

PLUGIN = "benchmarks.settings.plugin"
AXES = "benchmarks.settings.axes"
BARE = "benchmarks.settings.bare"
WORKER_TIMEOUT = 3600
REFUSED_IN_A_ROW = 10  # refused logins timed per run (their mean)

# How much work each mode does. `tiny` only proves that everything still runs
# (tests/test_benchmarks_smoke.py); its numbers mean nothing.
MODES: dict[str, dict[str, Any]] = {
    "full": {
        "repeat": 15,
        "warmup": 2,
        "small": {"counters": 1_000, "lockouts": 100, "failure_log": 1_000},
        "large": {
            "counters": 1_000_000,
            "lockouts": 100_000,
            "failure_log": 1_000_000,
        },
        "scale_repeat": 20,
        "attack_seconds": 10.0,
    },
    "quick": {
        "repeat": 7,
        "warmup": 1,
        "small": {"counters": 1_000, "lockouts": 100, "failure_log": 1_000},
        "large": {"counters": 100_000, "lockouts": 10_000, "failure_log": 100_000},
        "scale_repeat": 10,
        "attack_seconds": 5.0,
    },
    "tiny": {
        "repeat": 1,
        "warmup": 0,
        "small": {"counters": 10, "lockouts": 1, "failure_log": 10},
        "large": {"counters": 100, "lockouts": 10, "failure_log": 100},
        "scale_repeat": 1,
        "attack_seconds": 1.0,
        "attack_clients": 50,
    },
}
ATTACK_CLIENTS = 1_000  # unless the mode says otherwise
ATTACK_WORKERS = 4
ATTACK_THREADS = 8


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run_worker(
    task: str, settings_module: str, database_url: str, params: dict[str, Any]
) -> dict[str, Any]:
    """Run `benchmarks.tasks.<task>` in a new process against `settings_module`."""
    with tempfile.TemporaryDirectory(prefix="loginlimit-bench-") as directory:
        output = Path(directory) / "result.json"
        errors = Path(directory) / "stderr.txt"
        with errors.open("w") as stderr:
            result = subprocess.run(  # noqa: S603 - our own interpreter and module
                [
                    sys.executable,
                    "-m",
                    "benchmarks.worker",
                    task,
                    json.dumps(params),
                    str(output),
                ],
                env=django_environ(settings_module, {"DATABASE_URL": database_url}),
                cwd=REPO,
                stdout=stderr,
                stderr=subprocess.STDOUT,
                timeout=WORKER_TIMEOUT,
                check=False,
            )
        if result.returncode:
            raise RuntimeError(
                f"benchmark {task!r} on {settings_module} failed:\n"
                f"{errors.read_text(errors='replace')[-10000:]}"
            )
        return json.loads(output.read_text())


def database_name(url: str) -> str:
    """The NAME that Django's settings give the database at `url`."""
    import environ

    return environ.Env.db_url_config(url)["NAME"]


class ServedWorker:
    """A worker process that runs one named action per request and answers
    with the seconds it took (`benchmarks.worker --serve`)."""

    def __init__(
        self, task: str, settings_module: str, database_url: str, params: dict
    ) -> None:
        self.errors = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 - closed in close()
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [
                sys.executable,
                "-m",
                "benchmarks.worker",
                "--serve",
                task,
                json.dumps(params),
            ],
            env=django_environ(settings_module, {"DATABASE_URL": database_url}),
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.errors,
            text=True,
            bufsize=1,
        )
        # Every answer is bounded: a hung worker is killed, and reading fails.
        self.watchdog = threading.Timer(WORKER_TIMEOUT, self.process.kill)
        self.watchdog.daemon = True
        self.watchdog.start()
        self.description = f"{task} on {settings_module}"

    def wait_until_ready(self) -> None:
        self._expect("ready")

    def _read(self) -> str:
        line = self.process.stdout.readline()
        if not line:
            self.process.wait(timeout=10)
            self.errors.seek(0)
            raise RuntimeError(
                f"benchmark {self.description} failed:\n{self.errors.read()[-10000:]}"
            )
        return line.strip()

    def _expect(self, word: str) -> None:
        line = self._read()
        if line != word:
            raise RuntimeError(f"benchmark {self.description}: {line!r}")

    def time(self, action: str, times: int = 1) -> float:
        """Seconds per call of `action`, the mean of `times` calls in a row."""
        self.process.stdin.write(f"{action} {times}\n")
        self.process.stdin.flush()
        return float(self._read())

    def close(self) -> None:
        self.watchdog.cancel()
        with contextlib.suppress(OSError):
            self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()
        self.errors.close()


def measure_logins(
    mode: dict[str, Any], databases: SQLiteDatabases
) -> dict[str, dict[str, float]]:
    """Logins on the plugin's site and on plain axes' site, in turns: one
    failed login on each, one successful login on each, …"""
    import statistics

    repeat, warmup = mode["repeat"], mode["warmup"]
    sites = {"plugin": PLUGIN, "axes": AXES}
    workers: dict[str, ServedWorker] = {}
    samples: dict[str, dict[str, list[float]]] = {name: {} for name in sites}

    def take(actions: dict[str, int], names: list[str], count: int) -> None:
        """`count` rounds; in each, every action (`in_a_row` calls, their
        mean being one sample) on every site."""
        for index in range(warmup + count):
            for action, in_a_row in actions.items():
                # Alternate who goes first, so that neither always follows.
                for name in names if index % 2 == 0 else names[::-1]:
                    elapsed = workers[name].time(action, in_a_row)
                    if index >= warmup:
                        samples[name].setdefault(action, []).append(elapsed)

    try:
        for name, settings_module in sites.items():
            workers[name] = ServedWorker(
                "logins", settings_module, databases.fresh(), {}
            )
        for worker in workers.values():  # they set up side by side
            worker.wait_until_ready()
        both = list(sites)
        # All in one loop, so that the machine's speed, which drifts on a
        # shared VM, is the same for both sides of every ratio. Refused logins
        # come in runs, as an attack sends them: a lone one after the worker
        # sat idle would time cold CPU caches, not the code.
        take({"failed": 1, "successful": 1, "refused": REFUSED_IN_A_ROW}, both, repeat)
        # The two pieces on their own, in turns too (plain axes has no lockout
        # check of its own to time).
        take(
            {"password_check": 1, "lockout_check": REFUSED_IN_A_ROW}, ["plugin"], repeat
        )
    finally:
        for worker in workers.values():
            worker.close()
    return {
        name: {action: statistics.median(values) for action, values in by.items()}
        for name, by in samples.items()
    }


@contextlib.contextmanager
def postgres(url: str | None, use: bool) -> Iterator[PostgresDatabases | None]:
    """PostgreSQL databases on the server at `url` (or none)."""
    if not use or not url:
        yield None
        return
    databases = PostgresDatabases(url)
    try:
        databases.prepare()
        yield databases
    finally:
        databases.close()


def measure_all(
    mode: dict[str, Any],
    sqlite: SQLiteDatabases,
    pg: PostgresDatabases | None,
    redis_url: str | None,
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    params = {"repeat": mode["repeat"], "warmup": mode["warmup"]}
    clients = mode.get("attack_clients", ATTACK_CLIENTS)
    primary = sqlite  # the sandbox's default database

    log("Logins: plugin and plain django-axes, in turns")
    results["logins"] = measure_logins(mode, primary)

    log("SQL queries per request: no login limiting, plain axes, plugin")
    results["queries"] = {
        name: run_worker("queries", settings_module, primary.fresh(), params)
        for name, settings_module in (
            ("bare", BARE),
            ("axes", AXES),
            ("plugin", PLUGIN),
        )
    }

    log("Timing of known and unknown usernames")
    results["enumeration"] = run_worker("enumeration", PLUGIN, primary.fresh(), params)

    results["scale"] = {}
    results["attack"] = {}
    for databases in (sqlite, pg):
        if databases is None:
            continue
        log(
            f"Lockout check and reports at {mode['large']['counters']:,} rows "
            f"({databases.vendor})"
        )
        results["scale"][databases.vendor] = run_worker(
            "scale",
            PLUGIN,
            databases.fresh(),
            {
                "repeat": mode["scale_repeat"],
                "warmup": max(1, mode["warmup"]),
                "small": mode["small"],
                "large": mode["large"],
                "large_database": database_name(databases.fresh()),
            },
        )
        targets = {
            "plugin": attack.Target(PLUGIN, databases.fresh()),
            "axes": attack.Target(AXES, databases.fresh()),
        }
        label = databases.vendor
        if redis_url and databases is (pg or sqlite):
            # The cache store, on the same database server for its lockout records.
            targets["plugin_redis"] = attack.Target(
                PLUGIN, databases.fresh(), redis_url
            )
        log(
            f"{clients:,}-address attack on gunicorn, side by side: "
            f"{', '.join(targets)} ({label})"
        )
        results["attack"][label] = attack.run(
            targets,
            clients=clients,
            seconds=mode["attack_seconds"],
            workers=ATTACK_WORKERS,
            threads=ATTACK_THREADS,
        )
    return results


def _postgres_url(option: str | None) -> str | None:
    return option or os.environ.get("BENCHMARK_POSTGRES_URL") or None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.split("\n\n")[0]
    )
    size = parser.add_mutually_exclusive_group()
    size.add_argument(
        "--quick", action="store_true", help="100,000 rows, fewer repeats"
    )
    size.add_argument(
        "--tiny", action="store_true", help="smallest sizes: only proves it runs"
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="a PostgreSQL server to also measure on, as a URL of a role that may "
        "create databases (default: $BENCHMARK_POSTGRES_URL, or a throwaway "
        "server started on loopback when PostgreSQL is installed)",
    )
    parser.add_argument(
        "--no-postgres", action="store_true", help="measure on SQLite only"
    )
    parser.add_argument(
        "--no-redis",
        action="store_true",
        help="skip the attack with the counters in Redis (by default run when "
        "redis-server is installed, on a throwaway server on loopback)",
    )
    parser.add_argument("--markdown", action="store_true", help="print Markdown")
    parser.add_argument("--json", metavar="FILE", help="also write the raw results")
    args = parser.parse_args(argv)
    mode_name = "tiny" if args.tiny else "quick" if args.quick else "full"
    mode = MODES[mode_name]

    started = time.monotonic()
    load_at_start = machine.load()
    with contextlib.ExitStack() as stack:
        if mode_name == "tiny":
            # Read by benchmarks/settings/common.py in every process below.
            stack.enter_context(_environ(BENCHMARK_FAST_HASHER="1"))
        directory = Path(
            stack.enter_context(tempfile.TemporaryDirectory(prefix="loginlimit-bench-"))
        )
        url = None if args.no_postgres else _postgres_url(args.postgres)
        if url is None and not args.no_postgres:
            url = stack.enter_context(_throwaway_postgres())
        log("Migrating the databases")
        sqlite = SQLiteDatabases(directory)
        sqlite.prepare()
        pg = stack.enter_context(postgres(url, not args.no_postgres))
        redis_url = None if args.no_redis else stack.enter_context(_redis())
        results = measure_all(mode, sqlite, pg, redis_url)
        databases = [sqlite.version] + ([pg.version] if pg else [])
    results["mode"] = mode_name
    results["machine"] = machine.describe(databases, load_at_start)
    results["seconds"] = time.monotonic() - started

    table: Table = build_table(results, mode)
    print(table.markdown() if args.markdown else table.text())
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


@contextlib.contextmanager
def _environ(**values: str) -> Iterator[None]:
    """Environment variables for the processes started in the block."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@contextlib.contextmanager
def _throwaway_postgres() -> Iterator[str | None]:
    """A PostgreSQL server on loopback for this run, if PostgreSQL is installed
    (the test suite's launcher, tests/services.py); otherwise None."""
    try:
        from tests import services
    except ImportError:
        yield None
        return
    with services.postgres_url_or_none() as url:
        yield url


@contextlib.contextmanager
def _redis() -> Iterator[str | None]:
    """A Redis server on loopback for this run, if Redis is installed."""
    from tests import services

    try:
        server = services.RedisServer()
    except services.ServiceMissing:
        yield None
        return
    with server:
        yield server.url


def exit_cleanly_on_sigterm() -> None:
    """Let a `kill` run the clean-ups (servers stopped, files deleted)."""
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


if __name__ == "__main__":
    exit_cleanly_on_sigterm()
    sys.exit(main())
