"""Server-side parts of the walk-around benchmark (`benchmarks.walkaround`),
installed only by `benchmarks.settings.walkaround`, never in a real site.

`VirtualClockMiddleware` runs each request at the moment the attacker's
`X-Benchmark-Clock` header names (epoch seconds), so an hour of attack with its
lockouts and waits is played in seconds. `CountingHasher` appends one byte to
`$BENCHMARK_HASH_COUNT` for every password it checks or hashes: the figure the
benchmark reports is what the site's hasher really did.
"""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime

import time_machine
from django.contrib.auth.hashers import MD5PasswordHasher

CLOCK_HEADER = "HTTP_X_BENCHMARK_CLOCK"


class VirtualClockMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        moment = request.META.get(CLOCK_HEADER)
        if not moment:
            return self.get_response(request)
        when = datetime.fromtimestamp(float(moment), UTC)
        with time_machine.travel(when, tick=False):
            return self.get_response(request)


def _count() -> None:
    path = os.environ.get("BENCHMARK_HASH_COUNT")
    if path:
        with open(path, "ab") as file:
            file.write(b".")


_verifying = threading.local()


class CountingHasher(MD5PasswordHasher):
    """A fast hasher (what is counted is how often, not how long). A check
    counts once, though MD5's `verify()` encodes to compare."""

    algorithm = "counting_md5"

    def encode(self, password, salt):
        if not getattr(_verifying, "on", False):
            _count()
        return super().encode(password, salt)

    def verify(self, password, encoded):
        _count()
        _verifying.on = True
        try:
            return super().verify(password, encoded)
        finally:
            _verifying.on = False
