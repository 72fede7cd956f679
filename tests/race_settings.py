"""Settings of the servers that the race tests (tests/test_races.py) and the
benchmarks start under gunicorn: the sandbox as it is, plus

- a trusted reverse proxy, so that a test can send requests "from" many IP
  addresses through `X-Forwarded-For` (the single-proxy recipe of
  docs/deployment.md, "Behind a proxy"), and
- the counters in Redis (the cache store) when `LOGINLIMIT_RACE_REDIS_URL`
  names a Redis server, and
- a password hasher that counts its work across processes: every hash and every
  check appends one byte to the file named by `LOGINLIMIT_HASHER_LOG` (with
  O_APPEND, so concurrent workers never lose a write). The file's size is the
  number of password checks that all the servers made.

Import path: the sandbox's directory and the repository root must both be on
`sys.path` (`PYTHONPATH=sandbox:.`), as the tests and benchmarks arrange.
"""

import copy
import os

from django.contrib.auth.hashers import PBKDF2PasswordHasher

from sandbox.settings import *  # noqa: F403

# One nginx in front, which appends the peer's address to X-Forwarded-For.
AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
AXES_IPWARE_PROXY_COUNT = 0
IPWARE_STRICT = False

HASHER_LOG_VARIABLE = "LOGINLIMIT_HASHER_LOG"


def _count_password_work() -> None:
    path = os.environ.get(HASHER_LOG_VARIABLE)
    if not path:
        return
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, b".")
    finally:
        os.close(fd)


class CountingPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """Django's default hasher, at full cost, counting its work.

    All of PBKDF2's work goes through `encode()`: hashing a new password,
    checking one (`verify()` encodes the candidate and compares), and the
    dummy hash Django makes for an unknown username. So one byte per `encode()`
    is one password check. The hasher keeps the `pbkdf2_sha256` algorithm
    name, so passwords set by Django's own default hasher are checked by it."""

    def encode(self, password, salt, iterations=None):
        _count_password_work()
        return super().encode(password, salt, iterations)


PASSWORD_HASHERS = ["tests.race_settings.CountingPBKDF2PasswordHasher"]

# The cache store on a real Redis, shared by every server of a test.
if _redis_url := os.environ.get("LOGINLIMIT_RACE_REDIS_URL"):
    CACHES["loginlimit"] = {  # noqa: F405
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": _redis_url,
    }
    WAGTAIL_LOGINLIMIT = {
        **globals().get("WAGTAIL_LOGINLIMIT", {}),
        "store": "cache",
        "cache_alias": "loginlimit",
    }

# Quiet servers: the tests read the database and the hasher log, not stderr.
LOGGING = copy.deepcopy(LOGGING)  # noqa: F405
LOGGING["loggers"]["wagtail_loginlimit"]["level"] = os.environ.get(
    "LOGINLIMIT_LOG_LEVEL", "WARNING"
)
