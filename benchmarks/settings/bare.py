"""The same site with neither django-axes nor wagtail-loginlimit: the baseline
for the query counts."""

from benchmarks.settings.common import *  # noqa: F403

_LOGIN_LIMITING = {
    "axes",
    "wagtail_loginlimit",
    "axes.middleware.AxesMiddleware",
    "wagtail_loginlimit.middleware.LoginLimitMiddleware",
}
INSTALLED_APPS = without_the_plugin(INSTALLED_APPS, "axes")  # noqa: F405
MIDDLEWARE = [name for name in MIDDLEWARE if name not in _LOGIN_LIMITING]  # noqa: F405
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
del AXES_HANDLER  # noqa: F821
del AXES_LOCKOUT_CALLABLE  # noqa: F821
del WAGTAILADMIN_USER_LOGIN_FORM  # noqa: F821
del WAGTAILADMIN_USER_PASSWORD_RESET_FORM  # noqa: F821
