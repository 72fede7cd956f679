"""Admin URLs of the login-security reports, mounted by `wagtail_hooks` under
/admin/login-security/. Unlock and reactivate go through Wagtail's bulk-action
URL (/admin/bulk/wagtail_loginlimit/…)."""

from django.urls import path
from django.views.generic import RedirectView

from .views.active_lockouts import ActiveLockoutsView
from .views.deactivated_accounts import DeactivatedAccountsView
from .views.failed_logins import FailedLoginsView
from .views.fixed_limits import FixedLimitsView
from .views.forget_devices import ForgetDevicesView
from .views.lockout_history import LockoutHistoryView

app_name = "wagtail_loginlimit"


def _report(route: str, view, name: str) -> list:
    return [
        path(route, view.as_view(), name=name),
        path(
            f"{route}results/", view.as_view(results_only=True), name=f"{name}_results"
        ),
    ]


urlpatterns = [
    # /admin/login-security/ itself: the screen admins want first.
    path(
        "",
        RedirectView.as_view(pattern_name="wagtail_loginlimit:active_lockouts"),
        name="index",
    ),
    *_report("lockouts/active/", ActiveLockoutsView, "active_lockouts"),
    *_report("lockouts/", LockoutHistoryView, "lockout_history"),
    *_report("failed-logins/", FailedLoginsView, "failed_logins"),
    *_report("deactivated-accounts/", DeactivatedAccountsView, "deactivated_accounts"),
    # Settings → Login limits when code fixes every limit (read-only).
    path("limits/", FixedLimitsView.as_view(), name="fixed_limits"),
    # "Forget known devices" of one account (from the user listing).
    path(
        "accounts/<str:user_id>/forget-devices/",
        ForgetDevicesView.as_view(),
        name="forget_devices",
    ),
]
