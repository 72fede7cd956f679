from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WagtailLoginLimitConfig(AppConfig):
    name = "wagtail_loginlimit"
    label = "wagtail_loginlimit"
    verbose_name = _("Login limits")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import checks  # noqa: F401  (registers the system checks)
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
