"""What all three benchmarked sites share, on top of the sandbox's settings."""

import os

from sandbox.settings import *  # noqa: F403

# As deployed: the sandbox's DEBUG=True records every query and would time the
# debugging, not the site.
DEBUG = False

# One trusted reverse proxy that appends the peer's address (docs/deployment.md).
AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
AXES_IPWARE_PROXY_COUNT = 0
IPWARE_STRICT = False

# Django's default hashers, whatever a local environment chose.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]

# The test client's host name, next to the sandbox's own.
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]  # noqa: F405

# `--tiny` (the test suite's smoke test) only proves that the benchmarks run:
# a cheap hasher saves it a minute of PBKDF2. Its timings mean nothing.
if os.environ.get("BENCHMARK_FAST_HASHER") == "1":
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def without_the_plugin(apps: list[str], *left_out: str) -> list[str]:
    """INSTALLED_APPS for the comparison sites: no wagtail_loginlimit, and
    Wagtail's own users app instead of the plugin's subclass of it (whose edit
    screen imports the plugin's models)."""
    plain = {"wagtail_loginlimit.users_app.UsersAppConfig": "wagtail.users"}
    return [
        plain.get(app, app)
        for app in apps
        if app not in {"wagtail_loginlimit", *left_out}
    ]
