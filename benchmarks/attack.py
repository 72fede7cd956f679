"""A distributed attack on a locked-down site: how many refused logins per second
gunicorn absorbs.

1,000 client addresses are locked out first (their rows written straight into
the store, as 4 failed logins each would leave them). Then load threads post
wrong passwords to the admin login page for a fixed time, each request from the
next address, passed in `X-Forwarded-For` as the trusted proxy of the settings
would pass it. The sites compared (plugin, plain axes, plugin with Redis) run
side by side and are attacked in turns. Every answer should be a refusal (HTTP 429); anything else is
counted and reported. Loopback only; the load threads run on the same machine
and take CPU from the server, so the figure is a lower bound.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import requests

from benchmarks.servers import GunicornServer, run_django

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

LOCK_PLUGIN = """
from datetime import timedelta
from django.utils import timezone
from benchmarks import site
from wagtail_loginlimit.clients import SCOPE_IP, CounterKey
from wagtail_loginlimit.models import FailureCounter, Lockout
now = timezone.now()
counters, lockouts = [], []
for number in range({clients}):
    address = site.ip(number)
    key = CounterKey(SCOPE_IP, address, None).digest
    until = now + timedelta(hours=1)
    counters.append(FailureCounter(key=key, scope=SCOPE_IP, ip_group=address,
        failures=4, last_failure=now, locked_until=until))
    lockouts.append(Lockout(key=key, scope=SCOPE_IP, ip_address=address,
        ip_group=address, started_at=now, ends_at=until, failure_count=4))
FailureCounter.objects.bulk_create(counters, batch_size=500)
Lockout.objects.bulk_create(lockouts, batch_size=500)
"""

# With the counters in Redis: four failures each, through the store's own code.
LOCK_PLUGIN_CACHE = """
from django.utils import timezone
from benchmarks import site
from wagtail_loginlimit import storage
from wagtail_loginlimit.clients import ClientIdentity, counter_keys
from wagtail_loginlimit.conf import Config
config = Config()
now = timezone.now()
for number in range({clients}):
    client = ClientIdentity.build(site.ip(number), site.ADMIN)
    keys = counter_keys(client, config.lockout_method)
    for _ in range(config.allowed_retries):
        storage.record_failure(keys, client, now, config.limits)
"""

LOCK_AXES = """
from django.conf import settings
from axes.models import AccessAttempt
from benchmarks import site
AccessAttempt.objects.bulk_create([
    AccessAttempt(username=site.ADMIN, ip_address=site.ip(number),
        user_agent="python-requests", http_accept="*/*", path_info=site.LOGIN_URL,
        get_data="", post_data="", failures_since_start=settings.AXES_FAILURE_LIMIT)
    for number in range({clients})
], batch_size=500)
"""


@dataclass
class Target:
    """One site under attack: its settings, its database, its counters."""

    settings_module: str
    database_url: str
    redis_url: str | None = None

    @property
    def env(self) -> dict[str, str]:
        env = {"DATABASE_URL": self.database_url}
        if self.redis_url:
            env["BENCHMARK_REDIS_URL"] = self.redis_url
        return env

    def lock_out(self, clients: int) -> None:
        """Lock the attack's addresses out before it starts."""
        if self.redis_url:
            code = LOCK_PLUGIN_CACHE
        elif self.settings_module.endswith(".plugin"):
            code = LOCK_PLUGIN
        else:
            code = LOCK_AXES
        run_django(self.settings_module, self.env, code.format(clients=clients))


class Attacker:
    """One load thread's session (CSRF cookie and token) with one server."""

    def __init__(self, url: str) -> None:
        from benchmarks import site

        self.url = f"{url}{site.LOGIN_URL}"
        self.session = requests.Session()
        page = self.session.get(self.url, timeout=30)
        self.token = TOKEN.search(page.text).group(1)

    def until(
        self, deadline: float, addresses: Iterator[str], statuses: Counter
    ) -> None:
        from benchmarks import site

        while time.monotonic() < deadline:
            response = self.session.post(
                self.url,
                data={
                    "csrfmiddlewaretoken": self.token,
                    "username": site.ADMIN,
                    "password": site.WRONG_PASSWORD,
                },
                headers={"X-Forwarded-For": next(addresses)},
                allow_redirects=False,
                timeout=30,
            )
            statuses[response.status_code] += 1


def run(
    targets: dict[str, Target],
    *,
    clients: int,
    seconds: float,
    workers: int,
    threads: int,
    slices: int = 5,
) -> dict[str, dict[str, Any]]:
    """Refused requests per second that `workers` gunicorn workers absorb, for
    each target. The servers run side by side and are attacked in turns
    (`slices` slices of `seconds / slices` each), so that a change in the
    machine's load hits every target alike."""
    from benchmarks import site

    for target in targets.values():
        target.lock_out(clients)
    servers = {
        name: GunicornServer(target.settings_module, target.env, workers=workers)
        for name, target in targets.items()
    }
    try:
        GunicornServer.start_all(list(servers.values()))
        attackers = {
            name: [Attacker(server.url) for _ in range(threads)]
            for name, server in servers.items()
        }
        statuses = {name: Counter() for name in targets}
        elapsed = dict.fromkeys(targets, 0.0)
        addresses = itertools.cycle([site.ip(n) for n in range(clients)])
        lock = threading.Lock()

        def next_address() -> Iterator[str]:
            while True:
                with lock:
                    address = next(addresses)
                yield address

        for _ in range(slices):
            for name in targets:
                started = time.monotonic()
                deadline = started + seconds / slices
                counts = [Counter() for _ in range(threads)]
                load_threads = [
                    threading.Thread(
                        target=attacker.until,
                        args=(deadline, next_address(), count),
                    )
                    for attacker, count in zip(attackers[name], counts, strict=True)
                ]
                for thread in load_threads:
                    thread.start()
                for thread in load_threads:
                    thread.join(timeout=seconds + 120)
                elapsed[name] += time.monotonic() - started
                for count in counts:
                    statuses[name].update(count)
    finally:
        GunicornServer.stop_all(list(servers.values()))
        for server in servers.values():
            server.close()
    return {
        name: {
            "refused_per_second": statuses[name][429] / elapsed[name],
            "requests": sum(statuses[name].values()),
            "not_refused": sum(
                n for status, n in statuses[name].items() if status != 429
            ),
            "statuses": {str(status): n for status, n in statuses[name].items()},
            "seconds": elapsed[name],
            "clients": clients,
            "workers": workers,
            "threads": threads,
        }
        for name in targets
    }
