"""Start the sandbox under gunicorn on a free loopback port, and stop it again.

Used by the race tests (tests/test_races.py) and by the benchmarks. The
listening socket is bound here (port 0, so the kernel picks a free port) and
handed to gunicorn as an inherited file descriptor (`--bind fd://N`), so no
other process can take the port between choosing and binding it.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SANDBOX = REPO / "sandbox"

# How long a server may take to answer its first request.
START_TIMEOUT = 60.0
STOP_GRACE = 1.0
STOP_TIMEOUT = 15.0


def django_environ(settings_module: str, env: Mapping[str, str]) -> dict[str, str]:
    """The environment of a process that runs the sandbox with `settings_module`:
    the sandbox's directory (for `sandbox.settings` and the `demo` app) and the
    repository root (for `tests.*` and `benchmarks.*`) on the path."""
    environ = dict(os.environ)
    # A developer's own choices must not leak into a measured server.
    for name in list(environ):
        if name.startswith("LOGINLIMIT_") or name in ("DATABASE_URL", "CACHE_URL"):
            del environ[name]
    path = [str(SANDBOX), str(REPO)]
    if environ.get("PYTHONPATH"):
        path.append(environ["PYTHONPATH"])
    environ.update(
        {
            "PYTHONPATH": os.pathsep.join(path),
            "DJANGO_SETTINGS_MODULE": settings_module,
            "DEBUG": "false",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PYTHONUNBUFFERED": "1",
        }
    )
    environ.update(env)
    return environ


def run_django(
    settings_module: str, env: Mapping[str, str], code: str, timeout: float = 600
) -> str:
    """Run `code` after `django.setup()` in a fresh interpreter; its stdout."""
    script = "import django\ndjango.setup()\n" + code
    result = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", script],
        env=django_environ(settings_module, env),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if result.returncode:
        raise RuntimeError(
            f"Django script failed ({settings_module}):\n{result.stdout}\n{result.stderr}"
        )
    return result.stdout


# Servers not stopped yet: stopped when this process exits, whatever happens
# to the code that started them (an interrupted test run, say).
_running: set[GunicornServer] = set()


@atexit.register
def _stop_running() -> None:
    for server in list(_running):
        server.stop()


class GunicornServer:
    """One gunicorn master with `workers` workers serving the sandbox WSGI app."""

    def __init__(
        self,
        settings_module: str,
        env: Mapping[str, str],
        *,
        workers: int = 4,
        threads: int = 1,
    ) -> None:
        self.settings_module = settings_module
        self.env = dict(env)
        self.workers = workers
        self.threads = threads
        self.process: subprocess.Popen | None = None
        self.port: int | None = None
        self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in close()
            prefix="loginlimit-gunicorn-", suffix=".log", delete=False
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> GunicornServer:
        """Launch the server, wait until it answers, and warm its workers."""
        self.launch()
        self.wait_until_ready()
        return self

    def launch(self) -> None:
        """Launch the server without waiting for it (see `start_all`)."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(1024)
        self.port = listener.getsockname()[1]
        fd = listener.fileno()
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--bind",
            f"fd://{fd}",
            "--workers",
            str(self.workers),
            "--threads",
            str(self.threads),
            "--backlog",
            "1024",
            "--timeout",
            "120",
            "--graceful-timeout",
            "1",
            "--log-level",
            "warning",
            # Django is set up once in the master and forked into the workers
            # (it opens no database connection before a request does).
            "--preload",
            "sandbox.wsgi:application",
        ]
        try:
            self.process = subprocess.Popen(  # noqa: S603 - our own command
                command,
                env=django_environ(self.settings_module, self.env),
                cwd=REPO,
                pass_fds=(fd,),
                stdout=self._log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            listener.close()  # gunicorn holds its own copy
        _running.add(self)

    def wait_until_ready(self) -> None:
        try:
            self._wait_until_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        # Every worker imports Django on its own; ask until one answers, then
        # give the others the same time to be ready.
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited early:\n{self.output()}")
            try:
                with urllib.request.urlopen(  # noqa: S310 - loopback http
                    f"{self.url}/admin/login/", timeout=5
                ) as response:
                    if response.status == 200:
                        break
            except urllib.error.HTTPError as error:
                # It answers, but with an error: waiting will not fix that.
                raise RuntimeError(
                    f"gunicorn answered HTTP {error.code}:\n{self.output()}"
                ) from None
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"gunicorn did not answer within {START_TIMEOUT:.0f}s:\n"
                    f"{self.output()}"
                )
            time.sleep(0.2)
        self._warm_workers(deadline)

    def _warm_workers(self, deadline: float) -> None:
        """Send as many parallel requests as there are workers a few times, so
        that no measured request pays for a worker's first import."""
        from concurrent.futures import ThreadPoolExecutor

        def get(_):
            try:
                with urllib.request.urlopen(  # noqa: S310 - loopback http
                    f"{self.url}/admin/login/", timeout=30
                ) as response:
                    return response.status
            except (urllib.error.URLError, OSError):
                return None

        slots = self.workers * self.threads
        with ThreadPoolExecutor(max_workers=slots) as pool:
            for _ in range(3):
                if time.monotonic() > deadline:
                    break
                list(pool.map(get, range(slots)))

    def output(self) -> str:
        self._log.flush()
        try:
            return Path(self._log.name).read_text(errors="replace")[-6000:]
        except OSError:
            return ""

    def stop(self) -> None:
        """Stop the master and its workers (their own process group). The
        servers hold nothing worth a graceful shutdown: SIGTERM, and SIGKILL
        for whatever is still there shortly after."""
        self.stop_all([self])

    @staticmethod
    def stop_all(servers: list[GunicornServer]) -> None:
        """Stop several servers, side by side."""
        processes = []
        for server in servers:
            process, server.process = server.process, None
            _running.discard(server)
            if process is None:
                continue
            processes.append(process)
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE
        for process in processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=STOP_TIMEOUT)

    def close(self) -> None:
        """Stop the server and delete its log."""
        self.stop()
        self._log.close()
        try:
            os.unlink(self._log.name)
        except OSError:
            pass

    @staticmethod
    def start_all(servers: list[GunicornServer]) -> None:
        """Start several servers side by side (each sets Django up once)."""
        for server in servers:
            server.launch()
        for server in servers:
            server.wait_until_ready()

    def __enter__(self) -> GunicornServer:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc_info) -> None:
        self.close()
