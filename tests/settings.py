"""Settings for the test suite: a real Wagtail admin with the plugin wired in as
the README says."""

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent

SECRET_KEY = "tests-only-not-secret"  # noqa: S105
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
TIME_ZONE = "UTC"
USE_I18N = True
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("de", "German"),
    ("fr", "French"),
    ("es", "Spanish"),
    ("nl", "Dutch"),
]

INSTALLED_APPS = [
    "wagtail.contrib.settings",
    "wagtail.api.v2",
    "rest_framework",
    "rest_framework.authtoken",
    # Two-factor codes (wagtail_loginlimit.otp, tests/test_otp.py).
    "django_otp",
    "django_otp.plugins.otp_static",
    # Wagtail's users app with "Forget known devices" on the user edit screen.
    "wagtail_loginlimit.users_app.UsersAppConfig",
    "wagtail.admin",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.sites",
    "wagtail.snippets",
    "wagtail",
    "modelcluster",
    "taggit",
    "axes",
    "wagtail_loginlimit",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

AUTHENTICATION_BACKENDS = [
    "wagtail_loginlimit.backends.LoginLimitBackend",
    "django.contrib.auth.backends.ModelBackend",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "wagtail_loginlimit.middleware.LoginLimitMiddleware",
    "axes.middleware.AxesMiddleware",
]
AXES_HANDLER = "wagtail_loginlimit.handler.LoginLimitHandler"
AXES_LOCKOUT_CALLABLE = "wagtail_loginlimit.responses.axes_lockout_response"
WAGTAILADMIN_USER_LOGIN_FORM = "wagtail_loginlimit.forms.LoginForm"
WAGTAILADMIN_USER_PASSWORD_RESET_FORM = (
    "wagtail_loginlimit.password_reset.PasswordResetForm"
)

# Wagtail's API (tests/urls.py mounts it at /api/v2/) behind Django REST
# framework's authentication, as a site that keeps its API private sets it up.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.BasicAuthentication",
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
}

ROOT_URLCONF = "tests.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("LOGINLIMIT_TEST_SQLITE", ":memory:"),
        "OPTIONS": {"transaction_mode": "IMMEDIATE"},
    }
}
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# A real (fast) hasher that counts how often a password is checked or hashed.
PASSWORD_HASHERS = ["tests.hashers.CountingHasher"]

STATIC_URL = "/static/"
MEDIA_ROOT = BASE_DIR / "media"
WAGTAIL_SITE_NAME = "Test site"
WAGTAILADMIN_BASE_URL = "http://testserver"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"null": {"class": "logging.NullHandler"}},
    "loggers": {"wagtail_loginlimit": {"handlers": ["null"], "level": "INFO"}},
}

# --- The store the whole suite runs against -----------------------------------
# LOGINLIMIT_TEST_STORE=sqlite (the default) | postgres | redis. `postgres` puts
# the database on a real PostgreSQL server, `redis` keeps the counters in a
# real Redis through the cache store; tests/services.py starts the server
# (or LOGINLIMIT_TEST_DATABASE_URL / LOGINLIMIT_TEST_REDIS_URL name one). A
# server that is not installed fails the run under CI=true and skips every test
# otherwise (tests/conftest.py reads TEST_STORE_SKIP).
TEST_STORE = os.environ.get("LOGINLIMIT_TEST_STORE", "").strip().lower() or "sqlite"
TEST_STORE_SKIP = ""
TEST_STORES = ("sqlite", "postgres", "redis")
# What the cache store keeps under WAGTAIL_LOGINLIMIT in a `redis` run.
TEST_CACHE_STORE = {"store": "cache", "cache_alias": "loginlimit"}

if TEST_STORE not in TEST_STORES:
    raise RuntimeError(
        f"LOGINLIMIT_TEST_STORE={TEST_STORE!r}: expected one of {', '.join(TEST_STORES)}."
    )
if TEST_STORE != "sqlite":
    from tests import services

    try:
        if TEST_STORE == "postgres" and "LOGINLIMIT_TEST_SQLITE" not in os.environ:
            # (A process given its own SQLite file keeps it: see test_commands.)
            if not os.environ.get("LOGINLIMIT_TEST_DATABASE_URL"):
                # Processes the tests start use this server instead of their own.
                os.environ["LOGINLIMIT_TEST_DATABASE_URL"] = (
                    services.postgres().database_url("loginlimit")
                )
            import environ

            # pytest-django creates and drops test_<name> on that server.
            DATABASES = {
                "default": environ.Env.db_url_config(
                    os.environ["LOGINLIMIT_TEST_DATABASE_URL"]
                )
            }
        elif TEST_STORE == "redis":
            if not os.environ.get("LOGINLIMIT_TEST_REDIS_URL"):
                os.environ["LOGINLIMIT_TEST_REDIS_URL"] = services.redis().url
            CACHES["loginlimit"] = {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": os.environ["LOGINLIMIT_TEST_REDIS_URL"],
            }
            WAGTAIL_LOGINLIMIT = dict(TEST_CACHE_STORE)
    except services.ServiceMissing as error:
        if services.in_ci():
            raise RuntimeError(
                f"LOGINLIMIT_TEST_STORE={TEST_STORE}: {error} (CI=true: a missing "
                "server fails the run)"
            ) from error
        TEST_STORE_SKIP = (
            f"LOGINLIMIT_TEST_STORE={TEST_STORE}: {error}; run with "
            "LOGINLIMIT_TEST_STORE=sqlite, or install it"
        )
