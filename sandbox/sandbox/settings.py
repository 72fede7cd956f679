"""Settings of the wagtail-loginlimit sandbox, a minimal Wagtail demo site.

Every setting that differs between machines comes from an environment variable
or from an optional ``sandbox/.env`` file (see ``.env.example``), read with
django-environ. Variables already set in the environment win over the file.

The defaults are for a local demo only: DEBUG on, an insecure secret key,
SQLite and an in-memory cache.
"""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent  # sandbox/

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str(
    "SECRET_KEY",
    default="django-insecure-sandbox-only-do-not-use-this-key-in-production",
)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])


# Applications ---------------------------------------------------------------

INSTALLED_APPS = [
    "wagtail.contrib.settings",
    "wagtail.sites",
    # Wagtail's users app with "Forget known devices" on the user edit screen.
    "wagtail_loginlimit.users_app.UsersAppConfig",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "axes",
    "wagtail_loginlimit",
    "demo",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Refuses locked-out clients before the login view runs; gives back login
    # tries that ended without a failure or a login().
    "wagtail_loginlimit.middleware.LoginLimitMiddleware",
    # Last, as django-axes requires: it answers refused logins with a 429.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "sandbox.urls"
WSGI_APPLICATION = "sandbox.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
            ],
        },
    },
]


# Login limiting (wagtail-loginlimit on django-axes) ----------------------------

AUTHENTICATION_BACKENDS = [
    "wagtail_loginlimit.backends.LoginLimitBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "wagtail_loginlimit.handler.LoginLimitHandler"
AXES_LOCKOUT_CALLABLE = "wagtail_loginlimit.responses.axes_lockout_response"
WAGTAILADMIN_USER_LOGIN_FORM = "wagtail_loginlimit.forms.LoginForm"
# Reset emails go to a task (the demo's default backend runs it at once).
WAGTAILADMIN_USER_PASSWORD_RESET_FORM = (
    "wagtail_loginlimit.password_reset.PasswordResetForm"
)


def _env_bool(name):
    """A boolean variable; unlike env.bool, a typo is an error, not False."""
    value = env.str(name).strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ValueError("expected true or false")


def _env_int(name):
    return int(env.str(name).strip())


def _env_list(name):
    """A comma-separated variable as a list, without empty entries."""
    return [item.strip() for item in env.str(name).split(",") if item.strip()]


# LOGINLIMIT_<KEY> environment variable -> (reader, what it expects).
_SECONDS = "a whole number of seconds"
_LOGINLIMIT_VARIABLES = {
    "enabled": (_env_bool, "true or false"),
    "allowed_retries": (_env_int, "a whole number"),
    "lockout_duration": (_env_int, _SECONDS),
    "allowed_lockouts": (_env_int, "a whole number"),
    "long_duration": (_env_int, _SECONDS),
    "valid_duration": (_env_int, _SECONDS),
    "progressive_delay": (_env_bool, "true or false"),
    "captcha_after": (_env_int, "a whole number (0 = off)"),
    "attack_threshold": (_env_int, "a whole number (0 = off)"),
    "ipv4_prefix": (_env_int, "a network size in bits, 1-32"),
    "ipv6_prefix": (_env_int, "a network size in bits, 1-128"),
    "network_retries": (_env_int, "a whole number (0 = off)"),
    "ipv4_network_prefix": (_env_int, "a network size in bits, 1-32"),
    "ipv6_network_prefix": (_env_int, "a network size in bits, 1-128"),
    "deactivate_after": (_env_int, "a whole number (0 = off)"),
    "notify_email_after": (_env_int, "a whole number"),
    "lockout_method": (env.str, "ip, username, ip_and_username or ip_or_username"),
    "lockout_notify": (env.str, "'', log, email or log,email"),
    "digest": (env.str, "'', daily or weekly"),
    "whitelist": (_env_list, "comma-separated IPs, CIDR ranges and usernames"),
    "whitelist_only": (_env_bool, "true or false"),
    "blacklist": (_env_list, "comma-separated IPs and CIDR ranges"),
    "deny_usernames": (_env_list, "comma-separated usernames no account uses"),
    # Where the counters live: LOGINLIMIT_STORE=cache keeps them in the Redis
    # cache that CACHE_URL names (e.g. CACHE_URL=redis://127.0.0.1:6379/1).
    "store": (env.str, "database or cache"),
    "cache_alias": (env.str, "the name of a cache in CACHES"),
    "on_store_error": (env.str, "refuse or allow"),
}


def _loginlimit_from_env():
    """The plugin's settings that LOGINLIMIT_<KEY> variables set.

    A key set here is fixed: the admin shows it read-only. Keys left unset
    stay editable in Settings → Login limits. Whether a value is allowed (a
    known lockout_method, say) is the plugin's system checks' job; this only
    refuses values of the wrong type.
    """
    config = {}
    for key, (read, expected) in _LOGINLIMIT_VARIABLES.items():
        name = f"LOGINLIMIT_{key.upper()}"
        if name not in env:
            continue
        try:
            config[key] = read(name)
        except ValueError as error:
            raise ImproperlyConfigured(
                f"{name}={env.str(name)!r} is invalid: expected {expected}."
            ) from error
    return config


if _loginlimit := _loginlimit_from_env():
    WAGTAIL_LOGINLIMIT = _loginlimit


# Data -----------------------------------------------------------------------

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Concurrent logins must serialise their counter updates. With SQLite's
    # default deferred transactions, two requests can both read a failure
    # count and then both fail to upgrade to a write lock ("database is
    # locked"), losing an attempt. IMMEDIATE takes the write lock when the
    # transaction begins, so the second request waits (up to `timeout`
    # seconds) and then reads the first one's update.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20}
    )

CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# Passwords ------------------------------------------------------------------

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]


# Languages ------------------------------------------------------------------

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("de", _("German")),
    ("fr", _("French")),
    ("es", _("Spanish")),
    ("nl", _("Dutch")),
]
USE_I18N = True
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_TZ = True


# Files ----------------------------------------------------------------------

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
MEDIA_URL = "/media/"
MEDIA_ROOT = BASE_DIR / "media"


# E-mail (lockout notifications) ---------------------------------------------

if "EMAIL_URL" in env:
    # e.g. smtp://user:password@localhost:25 — sets EMAIL_BACKEND, EMAIL_HOST...
    globals().update(env.email_url("EMAIL_URL"))
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="webmaster@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL


# Logging --------------------------------------------------------------------

# The security log (`wagtail_loginlimit.security`) gets the format that
# docs/operations.md recommends and the shipped fail2ban filter reads: the UTC
# timestamp, the level, then the message, with no logger name in between.
# It goes to the console like the rest and, with LOGINLIMIT_LOG_FILE set, also
# to that file (what a fail2ban jail's `logpath` would name).
_SECURITY_HANDLERS = ["security_console"]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "console": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "loginlimit": {
            # 2025-05-01T12:00:00Z WARNING loginlimit failure ip=…
            "()": "wagtail_loginlimit.security_log.UTCFormatter",
            "format": "%(asctime)s %(levelname)s %(message)s",
        },
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "console"},
        "security_console": {
            "class": "logging.StreamHandler",
            "formatter": "loginlimit",
        },
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        "wagtail_loginlimit": {
            "handlers": ["console"],
            "level": "INFO",
            "propagate": False,
        },
        "wagtail_loginlimit.security": {
            "handlers": _SECURITY_HANDLERS,
            "level": "INFO",
            "propagate": False,
        },
    },
}
if _security_log_file := env.str("LOGINLIMIT_LOG_FILE", default=""):
    LOGGING["handlers"]["security_file"] = {
        "class": "logging.handlers.WatchedFileHandler",
        "filename": _security_log_file,
        "formatter": "loginlimit",
    }
    _SECURITY_HANDLERS.append("security_file")


# Wagtail --------------------------------------------------------------------

WAGTAIL_SITE_NAME = "wagtail-loginlimit sandbox"
# Avatars without gravatar.com: the demo works offline and tells nobody who
# signed in.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAILADMIN_BASE_URL = env.str(
    "WAGTAILADMIN_BASE_URL", default="http://127.0.0.1:8000"
)
WAGTAILSEARCH_BACKENDS = {
    "default": {"BACKEND": "wagtail.search.backends.database"},
}
WAGTAILDOCS_EXTENSIONS = [
    "csv",
    "docx",
    "odt",
    "pdf",
    "pptx",
    "rtf",
    "txt",
    "xlsx",
    "zip",
]
