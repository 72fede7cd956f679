from django.apps import AppConfig, apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _


class WagtailLoginLimitConfig(AppConfig):
    name = "wagtail_loginlimit"
    label = "wagtail_loginlimit"
    verbose_name = _("Login limits")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)

        if not apps.is_installed("axes"):
            # Nothing else can load without axes' models.
            refuse_to_start_without_axes()
            return
        from .accounts import connect_signals
        from .dashboard_cache import connect_signals as connect_dashboard_signals
        from .forms import use_on_django_admin
        from .handler import replace_axes_failure_receiver
        from .permissions import register_policies

        register_policies()

        # An account made active in Wagtail's user editor clears its counts.
        connect_signals()
        # Lockouts that begin or are lifted show on the dashboard at once.
        connect_dashboard_signals()
        # authenticate() without a request: one warning, not an error per call.
        replace_axes_failure_receiver()
        # The Django admin's login says "N attempts remaining" too.
        use_on_django_admin()


def refuse_to_start_without_axes() -> None:
    """Without `axes` in INSTALLED_APPS, `manage.py check` reports
    wagtail_loginlimit.E002. But once the settings name an axes or plugin
    class that Django itself imports (its own checks import every middleware
    and backend), that import would end in axes' RuntimeError first: say what
    is wrong, with the same id, before it does."""
    wired = [
        path
        for path in [*settings.MIDDLEWARE, *settings.AUTHENTICATION_BACKENDS]
        if path.startswith(("axes.", "wagtail_loginlimit."))
    ]
    if wired:
        raise ImproperlyConfigured(
            f"wagtail_loginlimit.E002: 'axes' is not in INSTALLED_APPS, so "
            f"{wired[0]!r} cannot be loaded. HINT: Add 'axes' to INSTALLED_APPS, "
            "before 'wagtail_loginlimit'."
        )
