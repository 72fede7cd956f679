from django.contrib.auth import views as auth_views
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls

from wagtail_loginlimit.forms import LoginLimitAuthenticationForm

urlpatterns = [
    path("admin/", include(wagtailadmin_urls)),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(
            authentication_form=LoginLimitAuthenticationForm,
            template_name="registration/login.html",
        ),
        name="site_login",
    ),
    path("", include(wagtail_urls)),
]
