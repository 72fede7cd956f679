"""A distributed attack on a locked-down site: how many refused logins per second
gunicorn absorbs.

1,000 client addresses are locked out first (their rows written straight into
the store, as 4 failed logins each would leave them). Then load threads post
wrong passwords to the admin login page for a fixed time, each request from the
next address, passed in `X-Forwarded-For` as the trusted proxy of the settings
would pass it. Every answer should be a refusal (HTTP 429); anything else is
counted and reported. Loopback only; the load threads run on the same machine
and take CPU from the server, so the figure is a lower bound.
"""

from __future__ import annotations

import re
import threading
import time
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
from wagtail_loginlimit.clients import Client, counter_keys
from wagtail_loginlimit.conf import Config
config = Config()
now = timezone.now()
for number in range({clients}):
    client = Client.build(site.ip(number), site.ADMIN)
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


def _attacker(
    url: str, clients: int, first: int, step: int, deadline: float, tally: dict
) -> None:
    from benchmarks import site

    session = requests.Session()
    page = session.get(f"{url}{site.LOGIN_URL}", timeout=30)
    token = TOKEN.search(page.text).group(1)
    number, statuses = first, {}
    while time.monotonic() < deadline:
        response = session.post(
            f"{url}{site.LOGIN_URL}",
            data={
                "csrfmiddlewaretoken": token,
                "username": site.ADMIN,
                "password": site.WRONG_PASSWORD,
            },
            headers={"X-Forwarded-For": site.ip(number % clients)},
            allow_redirects=False,
            timeout=30,
        )
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        number += step
    with tally["lock"]:
        for status, count in statuses.items():
            tally["statuses"][status] = tally["statuses"].get(status, 0) + count


def run(
    settings_module: str,
    database_url: str,
    *,
    clients: int,
    seconds: float,
    workers: int,
    threads: int,
    redis_url: str | None = None,
) -> dict[str, Any]:
    """Refused requests per second that `workers` gunicorn workers absorb
    (with the plugin's counters in Redis if `redis_url` is given)."""
    env = {"DATABASE_URL": database_url}
    if redis_url:
        env["BENCHMARK_REDIS_URL"] = redis_url
        lock = LOCK_PLUGIN_CACHE
    elif settings_module.endswith(".plugin"):
        lock = LOCK_PLUGIN
    else:
        lock = LOCK_AXES
    run_django(settings_module, env, lock.format(clients=clients))
    with GunicornServer(settings_module, env, workers=workers) as server:
        tally: dict[str, Any] = {"lock": threading.Lock(), "statuses": {}}
        started = time.monotonic()
        deadline = started + seconds
        attackers = [
            threading.Thread(
                target=_attacker,
                args=(server.url, clients, index, threads, deadline, tally),
            )
            for index in range(threads)
        ]
        for attacker in attackers:
            attacker.start()
        for attacker in attackers:
            attacker.join(timeout=seconds + 120)
        elapsed = time.monotonic() - started
    statuses = tally["statuses"]
    refused = statuses.get(429, 0)
    return {
        "refused_per_second": refused / elapsed,
        "requests": sum(statuses.values()),
        "not_refused": sum(n for status, n in statuses.items() if status != 429),
        "statuses": {str(status): n for status, n in statuses.items()},
        "seconds": elapsed,
        "clients": clients,
        "workers": workers,
        "threads": threads,
    }
