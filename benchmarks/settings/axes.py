"""The same site with plain django-axes instead of wagtail-loginlimit, wired the
way axes' documentation says: its backend first, its middleware last, its
default database handler and lockout response, and the same failure limit."""

from benchmarks.settings.common import *  # noqa: F403

INSTALLED_APPS = without_the_plugin(INSTALLED_APPS)  # noqa: F405
MIDDLEWARE = [  # noqa: F405
    name
    for name in MIDDLEWARE  # noqa: F405
    if name != "wagtail_loginlimit.middleware.LoginLimitMiddleware"
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
del AXES_LOCKOUT_CALLABLE  # noqa: F821
del WAGTAILADMIN_USER_LOGIN_FORM  # noqa: F821
del WAGTAILADMIN_USER_PASSWORD_RESET_FORM  # noqa: F821
AXES_FAILURE_LIMIT = 4
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
