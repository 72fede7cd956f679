"""The sandbox as shipped: wagtail-loginlimit on django-axes."""

import os

from benchmarks.settings.common import *  # noqa: F403

# The counters in Redis (the cache store), when the benchmark runs it.
if _redis_url := os.environ.get("BENCHMARK_REDIS_URL"):
    CACHES["loginlimit"] = {  # noqa: F405
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": _redis_url,
    }
    WAGTAIL_LOGINLIMIT = {
        **globals().get("WAGTAIL_LOGINLIMIT", {}),
        "store": "cache",
        "cache_alias": "loginlimit",
    }
