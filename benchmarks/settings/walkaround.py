"""A benchmarked site with a virtual clock and a counting hasher, for the
walk-around attacks (`benchmarks.walkaround`): `BENCHMARK_SITE=plugin` (the
default; its limits from `LOGINLIMIT_*` variables, as the sandbox reads them)
or `BENCHMARK_SITE=axes` (plain django-axes, locking an IP out for the same
20 minutes after the same 4 failures)."""

import os
from datetime import timedelta

if os.environ.get("BENCHMARK_SITE") == "axes":
    from benchmarks.settings.axes import *  # noqa: F403

    AXES_COOLOFF_TIME = timedelta(minutes=20)
else:
    from benchmarks.settings.plugin import *  # noqa: F403

# First, so that the whole request (axes' and the plugin's clocks) runs at the
# attacker's virtual time.
MIDDLEWARE = ["benchmarks.virtual.VirtualClockMiddleware", *MIDDLEWARE]  # noqa: F405
PASSWORD_HASHERS = ["benchmarks.virtual.CountingHasher"]
