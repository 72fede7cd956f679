"""Real PostgreSQL and Redis servers for the tests, on loopback, in a temporary
directory, started on first use and stopped when the process exits.

    server = services.postgres()      # shared by the whole test session
    server.url                        # postgres://postgres@127.0.0.1:PORT/postgres
    server.stop(); server.start()     # an outage, then the same data again

    with services.PostgresServer() as server: ...   # a private one
    with services.RedisServer(persistent=True) as server: ...

The binaries come from the Debian packages `postgresql` (initdb and pg_ctl
under /usr/lib/postgresql/<version>/bin) and `redis-server`. PostgreSQL refuses
to run as root: as root, its commands run as the `postgres` user (created by
the Debian package) through `runuser`.

A missing binary raises `ServiceMissing`. Under `CI=true` that must fail the
run; `services.missing()` turns it into a skip only outside CI.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

START_TIMEOUT = 60.0
POSTGRES_USER = "postgres"


class ServiceMissing(RuntimeError):
    """A server binary is not installed."""


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def missing(error: ServiceMissing) -> None:
    """Skip the calling test, except under CI, where a missing server is a
    failure: the suite must run against every store there."""
    import pytest

    if in_ci():
        pytest.fail(f"{error} (CI=true: a missing server fails the run)")
    pytest.skip(str(error))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen | None, log: Path) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited early:\n{_tail(log)}")
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        time.sleep(0.05)
    raise RuntimeError(f"server did not listen on port {port}:\n{_tail(log)}")


def _tail(path: Path, size: int = 4000) -> str:
    try:
        return path.read_text(errors="replace")[-size:]
    except OSError:
        return "(no log)"


class _Server:
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Stop the server and delete its files."""
        with contextlib.suppress(Exception):
            self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)


# --- PostgreSQL ---


def postgres_bin() -> Path:
    """The newest installed PostgreSQL's bin directory (or the one
    `LOGINLIMIT_TEST_PG_BIN` names)."""
    if chosen := os.environ.get("LOGINLIMIT_TEST_PG_BIN"):
        if (Path(chosen) / "initdb").exists() and (Path(chosen) / "pg_ctl").exists():
            return Path(chosen)
        raise ServiceMissing(f"LOGINLIMIT_TEST_PG_BIN={chosen}: no initdb and pg_ctl")
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(Path(path).parent.parent.name),
    )
    if candidates:
        return Path(candidates[-1]).parent
    found = shutil.which("initdb")
    if found and shutil.which("pg_ctl"):
        return Path(found).parent
    raise ServiceMissing(
        "PostgreSQL is not installed (no initdb in /usr/lib/postgresql/*/bin or on "
        "PATH): apt-get install postgresql"
    )


class PostgresServer(_Server):
    """A throwaway PostgreSQL cluster: trust authentication on 127.0.0.1 only,
    fsync off (a test server loses nothing it must keep)."""

    def __init__(self) -> None:
        self.bin = postgres_bin()
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="loginlimit-pg-"))
        self.data = self.directory / "data"
        self.log = self.directory / "server.log"
        self._as_other_user = os.geteuid() == 0
        if self._as_other_user:
            try:
                account = pwd.getpwnam(POSTGRES_USER)
            except KeyError:
                raise ServiceMissing(
                    "running as root, but there is no 'postgres' user to run "
                    "PostgreSQL as (the Debian package creates it)"
                ) from None
            os.chown(self.directory, account.pw_uid, account.pw_gid)
        self._initialised = False

    @property
    def url(self) -> str:
        return self.database_url("postgres")

    def database_url(self, name: str) -> str:
        return f"postgres://{POSTGRES_USER}@127.0.0.1:{self.port}/{name}"

    def django_settings(self, name: str = "loginlimit") -> dict:
        """A `DATABASES` entry; pytest-django creates `test_<name>` from it."""
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": POSTGRES_USER,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "OPTIONS": {"connect_timeout": 5},
        }

    def _run(self, *command: str) -> None:
        argv = [str(self.bin / command[0]), *command[1:]]
        if self._as_other_user:
            argv = ["runuser", "-u", POSTGRES_USER, "--", *argv]
        result = subprocess.run(  # noqa: S603
            argv, capture_output=True, text=True, cwd=self.directory, check=False
        )
        if result.returncode:
            raise RuntimeError(
                f"{' '.join(argv)} failed:\n{result.stdout}{result.stderr}\n"
                f"{_tail(self.log)}"
            )

    def start(self) -> None:
        if not self._initialised:
            self._run(
                "initdb",
                "-D",
                str(self.data),
                "-U",
                POSTGRES_USER,
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
            )
            self._initialised = True
        options = (
            f"-h 127.0.0.1 -p {self.port} -k {self.directory} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
            "-c max_connections=200"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options,
            "-w", "-t", str(int(START_TIMEOUT)), "start",
        )  # fmt: skip
        _wait_for_port(self.port, None, self.log)

    def stop(self) -> None:
        if self.data.joinpath("postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")


# --- Redis ---


def redis_bin() -> str:
    """The `redis-server` on PATH or from Debian's package (or the one
    `LOGINLIMIT_TEST_REDIS_SERVER` names)."""
    if chosen := os.environ.get("LOGINLIMIT_TEST_REDIS_SERVER"):
        if Path(chosen).is_file():
            return chosen
        raise ServiceMissing(f"LOGINLIMIT_TEST_REDIS_SERVER={chosen}: not found")
    found = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if not found:
        raise ServiceMissing("Redis is not installed: apt-get install redis-server")
    return found


class RedisServer(_Server):
    """A Redis server on 127.0.0.1. `persistent=True` keeps its data across a
    stop and start (append-only file), as a production Redis should."""

    def __init__(self, *, persistent: bool = False) -> None:
        self.binary = redis_bin()
        self.port = free_port()
        self.persistent = persistent
        self.directory = Path(tempfile.mkdtemp(prefix="loginlimit-redis-"))
        self.log = self.directory / "server.log"
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        argv = [
            self.binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--dir", str(self.directory),
            "--save", "",
            "--appendonly", "yes" if self.persistent else "no",
            "--appendfsync", "always",
            "--logfile", str(self.log),
            "--daemonize", "no",
        ]  # fmt: skip
        self.process = subprocess.Popen(  # noqa: S603
            argv, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
        )
        _wait_for_port(self.port, self.process, self.log)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # SIGTERM: Redis flushes its AOF and exits
        try:
            self.process.wait(timeout=START_TIMEOUT)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


# --- one of each per process, started on first use ---

_shared: dict[str, _Server] = {}


def _shared_server(name: str, factory) -> _Server:
    if name not in _shared:
        server = factory()
        try:
            server.start()
        except BaseException:
            server.close()
            raise
        _shared[name] = server
    return _shared[name]


def postgres() -> PostgresServer:
    """The session's PostgreSQL server (started on the first call)."""
    return _shared_server("postgres", PostgresServer)


def redis() -> RedisServer:
    """The session's Redis server (started on the first call)."""
    return _shared_server("redis", RedisServer)


@atexit.register
def stop_all() -> None:
    while _shared:
        _, server = _shared.popitem()
        server.close()


@contextlib.contextmanager
def postgres_url_or_none() -> Iterator[str | None]:
    """A private PostgreSQL server's superuser URL for as long as the block
    runs, or None when PostgreSQL is not installed."""
    try:
        server = PostgresServer()
    except ServiceMissing:
        yield None
        return
    with server:
        yield server.url
