"""System checks: invalid `WAGTAIL_LOGINLIMIT` values and missing axes wiring,
each with a hint that says what to write."""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import checks
from django.core.cache import caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.utils.module_loading import import_string
from wagtail.admin.views.account import password_reset_enabled

from .code_settings import SETTING_NAME, code_settings, code_value
from .conf import get_config
from .storage import checks as _store_checks  # noqa: F401  (E020, E021)
from .users import existing_usernames

BACKEND = "wagtail_loginlimit.backends.LoginLimitBackend"
LOCKOUT_CALLABLE = "wagtail_loginlimit.responses.axes_lockout_response"
HANDLER = "wagtail_loginlimit.handler.LoginLimitHandler"
MIDDLEWARE = "wagtail_loginlimit.middleware.LoginLimitMiddleware"
LOGIN_FORM = "wagtail_loginlimit.forms.LoginForm"
REQUIRED_APPS = ("axes", "wagtail.contrib.settings")


def _is_subclass(path: str, base_path: str) -> bool:
    try:
        return issubclass(import_string(path), import_string(base_path))
    except (ImportError, TypeError):
        return False


def _is_lockout_callable(value) -> bool:
    """Axes takes the callable itself or its dotted path."""
    if isinstance(value, str):
        try:
            value = import_string(value)
        except ImportError:
            return False
    return value is not None and value is import_string(LOCKOUT_CALLABLE)


@checks.register(checks.Tags.security)
def check_configuration(app_configs=None, **kwargs):
    """E001: each invalid value of WAGTAIL_LOGINLIMIT."""
    errors = []
    for key, error in code_settings(report=False).errors.items():
        errors.append(
            checks.Error(
                f"{SETTING_NAME}[{key!r}] is invalid: {' '.join(error.messages)}",
                hint=f"Fix or remove {key!r} in {SETTING_NAME}; until then the "
                "default or admin value is used.",
                obj=SETTING_NAME,
                id="wagtail_loginlimit.E001",
            )
        )
    return errors


@checks.register(checks.Tags.security, checks.Tags.compatibility)
def check_wiring(app_configs=None, **kwargs):
    """E002–E006, W001, W003: the apps, backend, middleware, handler, response
    and login form."""
    found = []
    for app in REQUIRED_APPS:
        if app not in settings.INSTALLED_APPS:
            found.append(
                checks.Error(
                    f"{app!r} is not in INSTALLED_APPS.",
                    hint=f"Add {app!r} to INSTALLED_APPS, before 'wagtail_loginlimit'.",
                    id="wagtail_loginlimit.E002",
                )
            )

    if "axes" not in settings.INSTALLED_APPS:
        # The rest imports axes' models, which cannot load without the app:
        # E002 is the one thing to fix first.
        return found

    backends = list(settings.AUTHENTICATION_BACKENDS)
    ours = [i for i, path in enumerate(backends) if _is_subclass(path, BACKEND)]
    if not ours:
        found.append(
            checks.Error(
                "Failed logins are not limited: the login-limit backend is not in "
                "AUTHENTICATION_BACKENDS.",
                hint=f"Put {BACKEND!r} first in AUTHENTICATION_BACKENDS, before "
                "'django.contrib.auth.backends.ModelBackend'.",
                id="wagtail_loginlimit.E003",
            )
        )
    elif ours[0] != 0:
        found.append(
            checks.Error(
                f"{BACKEND!r} comes after {backends[0]!r} in AUTHENTICATION_BACKENDS, "
                "so passwords are checked before a lockout can refuse them.",
                hint=f"Move {BACKEND!r} to the top of AUTHENTICATION_BACKENDS.",
                id="wagtail_loginlimit.E003",
            )
        )
    if any(
        _is_subclass(path, "axes.backends.AxesStandaloneBackend")
        and not _is_subclass(path, BACKEND)
        for path in backends
    ):
        found.append(
            checks.Warning(
                "An axes backend is configured besides the login-limit backend; "
                "axes.backends.AxesBackend lets locked-out users in through "
                "aauthenticate().",
                hint=f"Use only {BACKEND!r}.",
                id="wagtail_loginlimit.W001",
            )
        )

    if "axes.middleware.AxesMiddleware" not in settings.MIDDLEWARE:
        found.append(
            checks.Error(
                "Locked-out logins get no lockout page: 'axes.middleware.AxesMiddleware'"
                " is not in MIDDLEWARE.",
                hint="Add 'axes.middleware.AxesMiddleware' at the end of MIDDLEWARE.",
                id="wagtail_loginlimit.E004",
            )
        )
    if not _is_lockout_callable(getattr(settings, "AXES_LOCKOUT_CALLABLE", None)):
        found.append(
            checks.Error(
                "Locked-out logins get django-axes' own response, which echoes the "
                "username and does not say how long the lockout lasts.",
                hint=f"Set AXES_LOCKOUT_CALLABLE = {LOCKOUT_CALLABLE!r}.",
                id="wagtail_loginlimit.E006",
            )
        )
    if not any(_is_subclass(path, MIDDLEWARE) for path in settings.MIDDLEWARE):
        found.append(
            checks.Error(
                "Login tries checked by authenticate() without login() (API "
                "authentication) are not given back, so such clients run out of tries.",
                hint=f"Add {MIDDLEWARE!r} to MIDDLEWARE, after "
                "'django.contrib.auth.middleware.AuthenticationMiddleware'.",
                id="wagtail_loginlimit.E007",
            )
        )

    handler = getattr(settings, "AXES_HANDLER", "")
    if not _is_subclass(handler, HANDLER):
        found.append(
            checks.Error(
                f"AXES_HANDLER is {handler!r}, so django-axes counts failures by its "
                "own rules and the login limits are ignored.",
                hint=f"Set AXES_HANDLER = {HANDLER!r}.",
                id="wagtail_loginlimit.E005",
            )
        )

    if "wagtail.admin" in settings.INSTALLED_APPS:
        form = getattr(settings, "WAGTAILADMIN_USER_LOGIN_FORM", "")
        if not _is_subclass(form, "wagtail_loginlimit.forms.LoginLimitFormMixin"):
            found.append(
                checks.Warning(
                    "The Wagtail login page will not say how many attempts remain.",
                    hint=f"Set WAGTAILADMIN_USER_LOGIN_FORM = {LOGIN_FORM!r}, or add "
                    "wagtail_loginlimit.forms.LoginLimitFormMixin to your login form.",
                    id="wagtail_loginlimit.W003",
                )
            )
    return found


@checks.register(checks.Tags.compatibility)
def check_sqlite_locking(app_configs=None, databases=None, **kwargs):
    """W004: SQLite without IMMEDIATE transactions fails parallel logins."""
    found = []
    for alias, db in settings.DATABASES.items():
        if "sqlite" not in db.get("ENGINE", ""):
            continue
        if db.get("OPTIONS", {}).get("transaction_mode") != "IMMEDIATE":
            found.append(
                checks.Warning(
                    f"Database {alias!r} is SQLite without IMMEDIATE transactions: "
                    "parallel failed logins may fail with 'database is locked'.",
                    hint='Add "OPTIONS": {"transaction_mode": "IMMEDIATE"} to it.',
                    id="wagtail_loginlimit.W004",
                )
            )
    return found


@checks.register(checks.Tags.security)
def check_proxy_settings(app_configs=None, **kwargs):
    """W005–W006: client-IP settings that let a client choose its counted IP, or
    that put many clients under one count (see docs/deployment.md)."""
    found = []
    order = list(getattr(settings, "AXES_IPWARE_META_PRECEDENCE_ORDER", None) or [])
    count = getattr(settings, "AXES_IPWARE_PROXY_COUNT", None)
    trusted = getattr(settings, "AXES_IPWARE_PROXY_TRUSTED_IPS", None)
    headers = [name for name in order if name != "REMOTE_ADDR"]
    if headers and count is None and not trusted:
        found.append(
            checks.Warning(
                f"AXES_IPWARE_META_PRECEDENCE_ORDER reads {headers[0]!r} without "
                "AXES_IPWARE_PROXY_COUNT or AXES_IPWARE_PROXY_TRUSTED_IPS: a client "
                "chooses the IP address it is counted under.",
                hint="Set AXES_IPWARE_PROXY_COUNT (proxies in front of Django minus "
                "one) or AXES_IPWARE_PROXY_TRUSTED_IPS; see docs/deployment.md.",
                id="wagtail_loginlimit.W005",
            )
        )
    if headers and (count is not None or trusted):
        if getattr(settings, "IPWARE_STRICT", True) is not False:
            found.append(
                checks.Warning(
                    "With IPWARE_STRICT on, every request whose X-Forwarded-For is "
                    "longer than expected is counted under one address, so a forged "
                    "header can lock out everyone behind a forward proxy.",
                    hint="Set IPWARE_STRICT = False; see docs/deployment.md.",
                    id="wagtail_loginlimit.W006",
                )
            )
    return found


RESET_FORM = "wagtail_loginlimit.password_reset.PasswordResetForm"
RESET_FORM_MIXIN = "wagtail_loginlimit.password_reset.PasswordResetFormMixin"


@checks.register(checks.Tags.security)
def check_password_reset_form(app_configs=None, **kwargs):
    """W030: the Wagtail admin's password-reset form sends its email inside the
    request, so the time it takes tells whether an address has an account."""
    if not apps.is_installed("axes"):
        return []  # E002 says what is missing; nothing else can load
    if not password_reset_enabled():
        return []
    form = getattr(settings, "WAGTAILADMIN_USER_PASSWORD_RESET_FORM", None)
    if form and _is_subclass(form, RESET_FORM_MIXIN):
        return []
    return [
        checks.Warning(
            "The Wagtail admin's password-reset form sends its email inside the "
            "request: how long it takes tells whether an address has an account.",
            hint=f'Set WAGTAILADMIN_USER_PASSWORD_RESET_FORM = "{RESET_FORM}" (or '
            "mix wagtail_loginlimit.password_reset.PasswordResetFormMixin into "
            "yours).",
            id="wagtail_loginlimit.W030",
        )
    ]


@checks.register(checks.Tags.security, deploy=True)
def check_task_backend(app_configs=None, **kwargs):
    """W031 (`check --deploy`): the tasks framework runs tasks inside the request,
    so a reset email is still sent on the request path."""
    if not apps.is_installed("axes"):
        return []  # E002 says what is missing; nothing else can load
    # Imported here: it needs axes' models, and these checks must also run
    # (and say E002) when axes is not installed.
    from .password_reset import runs_in_request

    if not runs_in_request():
        return []
    return [
        checks.Warning(
            "The default task backend runs tasks inside the request: password-reset "
            "emails are sent on the request path, and the time it takes tells "
            "whether an address has an account.",
            hint="Configure TASKS with a backend that has a worker (for instance "
            "django-tasks-db's DatabaseBackend).",
            id="wagtail_loginlimit.W031",
        )
    ]


@checks.register(checks.Tags.security)
def check_whitelist_only(app_configs=None, **kwargs):
    """W034: `whitelist_only` fixed on in code with no IP or range on the
    whitelist refuses every login (the admin form refuses to save that).
    Only code values are judged: reading the admin's needs the database."""
    values = code_settings(report=False).values
    whitelist = values.get("whitelist")
    if not values.get("whitelist_only") or whitelist is None or whitelist.networks:
        return []
    return [
        checks.Warning(
            f"{SETTING_NAME}['whitelist_only'] is on, but the whitelist it fixes "
            "has no IP address or range: every login is refused (403).",
            hint=f"Put your networks in {SETTING_NAME}['whitelist'], or turn "
            "whitelist_only off.",
            obj=SETTING_NAME,
            id="wagtail_loginlimit.W034",
        )
    ]


CHALLENGE_CACHE_HINT = (
    "Point {setting}['cache_alias'] at a cache every process shares (Redis, "
    "Memcached or Django's database cache)."
)


def _challenge_cache():
    """The cache that remembers used challenge answers and attack mode's
    refused tries, or None when the plugin is off or the alias is unknown
    (E001/E021 report that)."""
    if code_settings(report=False).turned_off:
        return None
    alias = code_value("cache_alias", report=False)
    if alias not in (getattr(settings, "CACHES", {}) or {}):
        return None
    try:
        return caches[alias]
    except Exception:  # a backend that cannot load: Django's own checks say why
        return None


@checks.register(checks.Tags.caches, checks.Tags.security)
def check_challenge_cache(app_configs=None, **kwargs):
    """W035: a dummy cache remembers nothing, so an answer to the challenge
    could be sent again and again for its 10 minutes."""
    if not isinstance(_challenge_cache(), DummyCache):
        return []
    return [
        checks.Warning(
            f"{SETTING_NAME}['cache_alias'] is a DummyCache: it remembers no used "
            "challenge answer, so one solved challenge lets every login through "
            "it for 10 minutes, and attack mode cannot count the tries refused "
            "for want of the challenge.",
            hint=CHALLENGE_CACHE_HINT.format(setting=SETTING_NAME),
            obj=SETTING_NAME,
            id="wagtail_loginlimit.W035",
        )
    ]


@checks.register(checks.Tags.caches, checks.Tags.security, deploy=True)
def check_challenge_cache_is_shared(app_configs=None, **kwargs):
    """W036 (`check --deploy`): a local-memory cache is one per process, so a
    used answer is remembered by the process that took it only."""
    if not isinstance(_challenge_cache(), LocMemCache):
        return []
    return [
        checks.Warning(
            f"{SETTING_NAME}['cache_alias'] is a local-memory cache, one per "
            "process: with several processes or servers a solved challenge can "
            "be used once in each, and attack mode counts each process's "
            "refused tries apart.",
            hint=CHALLENGE_CACHE_HINT.format(setting=SETTING_NAME),
            obj=SETTING_NAME,
            id="wagtail_loginlimit.W036",
        )
    ]


@checks.register(checks.Tags.security)
def check_challenge_field(app_configs=None, **kwargs):
    """E022: `challenge_field` names something that is not a form field class:
    the built-in ALTCHA challenge is used instead, which is not what the site
    asked for."""
    from django import forms

    chosen = code_settings(report=False).values.get("challenge_field")
    if chosen is None or (isinstance(chosen, type) and issubclass(chosen, forms.Field)):
        return []
    return [
        checks.Error(
            f"{SETTING_NAME}['challenge_field'] is {chosen!r}, not a form field "
            "class: the login forms use the built-in ALTCHA challenge instead.",
            hint="Name a django.forms.Field subclass, such as "
            "'django_recaptcha.fields.ReCaptchaField', or remove the key.",
            obj=SETTING_NAME,
            id="wagtail_loginlimit.E022",
        )
    ]


def _config_in_force():
    """The configuration with the editors' stored values, or None when the
    database cannot tell (not migrated, unreachable, or closed to a test
    runner): a check reports what it knows and never crashes `check`."""
    try:
        return get_config(report=False)
    except Exception:
        return None


@checks.register(checks.Tags.security)
def check_deny_usernames(app_configs=None, **kwargs):
    """W032: `deny_usernames` names an existing account, whose owner's first
    typo would lock their own address out."""
    if not apps.is_installed("axes"):
        return []  # E002 says what is missing; nothing else can load
    config = _config_in_force()
    if config is None or not config.enabled or not config.deny_usernames:
        return []
    try:
        taken = existing_usernames(config.deny_usernames.usernames)
    except Exception:
        return []  # the user table cannot be read: nothing to tell
    if not taken:
        return []
    names = ", ".join(repr(name) for name in taken)
    return [
        checks.Warning(
            f"deny_usernames names existing accounts ({names}): a failed login of "
            "their owners locks the owners' addresses out at once.",
            hint="Remove these names from deny_usernames (Settings → Login limits "
            f"or {SETTING_NAME}), or rename the accounts.",
            id="wagtail_loginlimit.W032",
        )
    ]


@checks.register(checks.Tags.security)
def check_deactivation_recipients(app_configs=None, **kwargs):
    """W033: deactivation is on and no active superuser has an email address:
    nobody hears of deactivations, nor of the last superuser kept active."""
    if not apps.is_installed("axes"):
        return []
    config = _config_in_force()
    if config is None or not config.enabled or not config.deactivate_after:
        return []
    User = get_user_model()
    email_field = User.get_email_field_name()
    try:
        reachable = (
            User._default_manager.filter(is_superuser=True, is_active=True)
            .exclude(**{f"{email_field}__isnull": True})
            .exclude(**{f"{email_field}__exact": ""})
            .exists()
        )
    except Exception:
        return []  # the user table cannot be read, or has no such fields
    if reachable:
        return []
    return [
        checks.Warning(
            "Account deactivation is on, but no active superuser has an email "
            "address: nobody is told when an account is deactivated or the last "
            "superuser is kept active.",
            hint="Give an active superuser an email address, or turn deactivation "
            "off (deactivate_after = 0).",
            id="wagtail_loginlimit.W033",
        )
    ]
