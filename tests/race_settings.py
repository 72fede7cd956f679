"""Settings of the servers that the race tests (tests/test_races.py) and the
benchmarks start under gunicorn: the sandbox as it is, plus

- a trusted reverse proxy, so that a test can send requests "from" many IP
  addresses through `X-Forwarded-For` (the single-proxy recipe of
  docs/deployment.md, "Behind a proxy"), and
- a password hasher that counts its work across processes: every hash and every
  check appends one byte to the file named by `LOGINLIMIT_HASHER_LOG` (with
  O_APPEND, so concurrent workers never lose a write). The file's size is the
  number of password checks that all the servers made.

Import path: the sandbox's directory and the repository root must both be on
`sys.path` (`PYTHONPATH=sandbox:.`), as the tests and benchmarks arrange.
"""

import os

from django.contrib.auth.hashers import PBKDF2PasswordHasher

from sandbox.settings import *  # noqa: F403

# One nginx in front, which appends the peer's address to X-Forwarded-For.
AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
AXES_IPWARE_PROXY_COUNT = 0
IPWARE_STRICT = False

HASHER_LOG_VARIABLE = "LOGINLIMIT_HASHER_LOG"


def _count_password_work(kind: bytes) -> None:
    path = os.environ.get(HASHER_LOG_VARIABLE)
    if not path:
        return
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        os.write(fd, kind)
    finally:
        os.close(fd)


class CountingPBKDF2PasswordHasher(PBKDF2PasswordHasher):
    """Django's default hasher, at full cost, counting every hash and check.

    It keeps the `pbkdf2_sha256` algorithm name, so passwords set by Django's
    own default hasher are checked by this one."""

    def verify(self, password, encoded):
        _count_password_work(b"v")
        return super().verify(password, encoded)

    def encode(self, password, salt, iterations=None):
        _count_password_work(b"e")
        return super().encode(password, salt, iterations)


PASSWORD_HASHERS = ["tests.race_settings.CountingPBKDF2PasswordHasher"]

# Quiet servers: the tests read the database and the hasher log, not stderr.
LOGGING["loggers"]["wagtail_loginlimit"]["level"] = os.environ.get(  # noqa: F405
    "LOGINLIMIT_LOG_LEVEL", "WARNING"
)
