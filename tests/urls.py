from django.contrib import admin
from django.contrib.auth import authenticate
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.http import JsonResponse
from django.urls import include, path
from django.utils.crypto import constant_time_compare
from django.views.decorators.csrf import csrf_exempt
from django_otp.views import LoginView as OTPLoginView
from rest_framework.authentication import RemoteUserAuthentication
from rest_framework.authtoken.views import obtain_auth_token
from rest_framework.response import Response
from rest_framework.views import APIView
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.api.v2.router import WagtailAPIRouter
from wagtail.api.v2.views import PagesAPIViewSet
from wagtail.documents import urls as wagtaildocs_urls

from wagtail_loginlimit import api
from wagtail_loginlimit.drf import (
    LoginLimitBasicAuthentication,
    LoginLimitTokenAuthentication,
)
from wagtail_loginlimit.forms import LoginLimitAuthenticationForm
from wagtail_loginlimit.otp import (
    LoginLimitOTPAuthenticationForm,
    LoginLimitOTPTokenForm,
)

BOX_PIN = "4242"


def pin_box(request, box):
    """A plugin's own form, protected through the public API (the example of
    docs/entry-points.md)."""
    key = str(box)
    judged = api.check(request, "box_pin", key=key)
    if judged.refused:
        return api.refusal_response(request)
    if constant_time_compare(request.POST.get("pin", ""), BOX_PIN):
        api.succeeded(request, "box_pin", key=key)
        return JsonResponse({"open": True})
    judged = api.failed(request, "box_pin", key=key)
    if judged.refused:
        return api.refusal_response(request)
    return JsonResponse(
        {"open": False, "message": api.remaining_message(judged)}, status=400
    )


def api_token(request):
    """Like an API's basic authentication: authenticate() with no login()."""
    user = authenticate(
        request,
        username=request.POST.get("username"),
        password=request.POST.get("password"),
    )
    return JsonResponse({"ok": user is not None}, status=200 if user else 401)


class WhoAmI(APIView):
    """A DRF view behind a front-end proxy's REMOTE_USER header."""

    authentication_classes = [RemoteUserAuthentication]

    def get(self, request):
        return Response({"username": request.user.get_username()})


# Wagtail's API, as its docs set it up; REST_FRAMEWORK in tests/settings.py
# puts it behind Basic, Token and session authentication.
api_router = WagtailAPIRouter("wagtailapi")
api_router.register_endpoint("pages", PagesAPIViewSet)

# The same API behind this package's counted classes (wagtail_loginlimit.drf),
# as a site sets them in REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"].
COUNTED = [LoginLimitBasicAuthentication, LoginLimitTokenAuthentication]


class CountedPagesAPIViewSet(PagesAPIViewSet):
    authentication_classes = COUNTED


class DomainLoginForm(LoginLimitAuthenticationForm):
    """Signs in with the name before "@corp.example": the backend is asked
    for another name than the one posted (test_account_budget.py)."""

    def clean_username(self):
        return f"{self.cleaned_data['username']}@corp.example"


class CapsLockLoginForm(LoginLimitAuthenticationForm):
    """Tries a wrong password again with its case swapped (caps lock was on):
    two authenticate() calls in one request (test_challenge.py)."""

    def clean(self):
        try:
            return super().clean()
        except ValidationError:
            password = self.cleaned_data.get("password") or ""
            self.user_cache = authenticate(
                self.request,
                username=self.cleaned_data.get("username"),
                password=password.swapcase(),
            )
            if self.user_cache is None:
                raise
            return self.cleaned_data


counted_api_router = WagtailAPIRouter("wagtailapi_counted")
counted_api_router.register_endpoint("pages", CountedPagesAPIViewSet)

urlpatterns = [
    path("api/token/", csrf_exempt(api_token), name="api_token"),
    path("api/v2/", api_router.urls),
    path("api/counted/v2/", counted_api_router.urls),
    # django-otp's two-step login with the counted forms (docs/entry-points.md).
    path(
        "otp/login/",
        OTPLoginView.as_view(
            otp_authentication_form=LoginLimitOTPAuthenticationForm,
            otp_token_form=LoginLimitOTPTokenForm,
            template_name="wagtail_loginlimit/public/login.html",
        ),
        name="otp_login",
    ),
    path("api/auth-token/", obtain_auth_token, name="api_auth_token"),
    path("api/whoami/", WhoAmI.as_view(), name="api_whoami"),
    path("admin/", include(wagtailadmin_urls)),
    path("django-admin/", admin.site.urls),
    path("box/<int:box>/", csrf_exempt(pin_box), name="pin_box"),
    path("documents/", include(wagtaildocs_urls)),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginLimitAuthenticationForm,
            template_name="registration/login.html",
        ),
        name="site_login",
    ),
    # A site's own LoginView with Django's form, not the mixin: the backend
    # still refuses a due attempt without the challenge (test_challenge.py).
    path(
        "plain-login/",
        auth_views.LoginView.as_view(
            template_name="wagtail_loginlimit/public/login.html"
        ),
        name="django_form_login",
    ),
    path(
        "domain-login/",
        auth_views.LoginView.as_view(
            authentication_form=DomainLoginForm,
            template_name="wagtail_loginlimit/public/login.html",
        ),
        name="domain_login",
    ),
    path(
        "caps-lock-login/",
        auth_views.LoginView.as_view(
            authentication_form=CapsLockLoginForm,
            template_name="wagtail_loginlimit/public/login.html",
        ),
        name="caps_lock_login",
    ),
    # The README's snippet as written: the plain template the plugin ships.
    path(
        "plain/login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginLimitAuthenticationForm,
            template_name="wagtail_loginlimit/public/login.html",
        ),
        name="plain_login",
    ),
    path(
        "accounts/password_change/",
        auth_views.PasswordChangeView.as_view(
            template_name="registration/site_password_change.html", success_url="/"
        ),
        name="password_change",
    ),
    path("", include(wagtail_urls)),
]
