from django.contrib.auth import authenticate
from django.contrib.auth import views as auth_views
from django.http import JsonResponse
from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls

from wagtail_loginlimit.forms import LoginLimitAuthenticationForm


def api_token(request):
    """Like an API's basic authentication: authenticate() with no login()."""
    user = authenticate(
        request,
        username=request.POST.get("username"),
        password=request.POST.get("password"),
    )
    return JsonResponse({"ok": user is not None}, status=200 if user else 401)


urlpatterns = [
    path("api/token/", csrf_exempt(api_token), name="api_token"),
    path("admin/", include(wagtailadmin_urls)),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginLimitAuthenticationForm,
            template_name="registration/login.html",
        ),
        name="site_login",
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
    path("", include(wagtail_urls)),
]
