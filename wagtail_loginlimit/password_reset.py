"""Password reset: requests limited per IP and per address, the email sent off
the request path, invalid or expired reset links counted per IP.

`LoginLimitMiddleware` hands any subclass of Django's `PasswordResetView` (the
Wagtail admin's among them) and of `PasswordResetConfirmView` to the guards
here:

- a reset request (`password_reset`) counts against the client's IP and the
  address asked for, each on its own: `password_reset_limit` requests per
  `password_reset_window`, then 429 with `Retry-After` until the window has
  passed. Every valid request counts, whether or not the address belongs to
  anyone, so the limit says nothing about which addresses exist;
- `PasswordResetFormMixin.save()` hands the email to a task (Django's tasks
  framework; the `django-tasks` backport on Django 5.2): the request does the
  same work whether or not the address exists, and the task looks the accounts
  up and sends. Configure a backend with a worker (`TASKS`): the default
  `ImmediateBackend` runs the task inside the request (check `W007` says so);
- a reset link whose token is invalid or expired (`password_reset_link`) counts
  against the client's IP with the configured limits; a locked-out client is
  refused before the token is checked;
- a completed reset makes the browser that did it a known device of the
  account (`known_devices`): the new password then works from it even while
  the name is locked out.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.forms import PasswordResetForm as DjangoPasswordResetForm
from django.contrib.auth.tokens import default_token_generator
from django.contrib.auth.views import PasswordResetConfirmView, PasswordResetView
from django.contrib.sites.shortcuts import get_current_site
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.http import urlsafe_base64_decode
from django.utils.module_loading import import_string
from wagtail.admin.forms.auth import PasswordResetForm as WagtailPasswordResetForm

from . import api, known_devices
from .clients import PASSWORD_RESET, PASSWORD_RESET_LINK

try:  # Django 6: the tasks framework is Django's own.
    from django.tasks import task, task_backends
except ImportError:  # Django 5.2: the backport.
    from django_tasks import task, task_backends

logger = logging.getLogger(__name__)

IMMEDIATE_BACKENDS = (
    "django.tasks.backends.immediate.ImmediateBackend",
    "django_tasks.backends.immediate.ImmediateBackend",
)


def _view_class(view_func):
    view_class = getattr(view_func, "view_class", None)
    return view_class if isinstance(view_class, type) else None


def guards(request: HttpRequest, view_func) -> str | None:
    """Which guard a request needs: "request", "link" or None."""
    view_class = _view_class(view_func)
    if view_class is None:
        return None
    if issubclass(view_class, PasswordResetView) and request.method == "POST":
        return "request"
    if issubclass(view_class, PasswordResetConfirmView):
        return "link"
    return None


def guard(request: HttpRequest, which: str, view_func, view_args, view_kwargs):
    if which == "request":
        return _guard_request(request, view_func, view_args, view_kwargs)
    return _guard_link(request, view_func, view_args, view_kwargs)


def _address(request: HttpRequest) -> str:
    """The address asked for (normalised for counting like a username)."""
    value = request.POST.get("email", "")
    return value.strip() if isinstance(value, str) else ""


def _guard_request(request, view_func, view_args, view_kwargs) -> HttpResponse:
    address = _address(request)
    judged = api.check(request, PASSWORD_RESET, key=address or None)
    if judged.refused:
        return api.refusal_response(request)
    response = view_func(request, *view_args, **view_kwargs)
    if response.status_code in (301, 302, 303):
        # A valid request, answered "done" whether or not the address is
        # anyone's: it counts, against the IP and the address.
        judged = api.failed(request, PASSWORD_RESET, key=address or None)
    return response


def _guard_link(request, view_func, view_args, view_kwargs) -> HttpResponse:
    judged = api.check(request, PASSWORD_RESET_LINK)
    if judged.refused:
        return api.refusal_response(request)
    user = _resetting(view_kwargs) if request.method == "POST" else None
    before = user.password if user is not None else None
    response = view_func(request, *view_args, **view_kwargs)
    if isinstance(response, TemplateResponse) and not (response.context_data or {}).get(
        "validlink", True
    ):
        api.failed(request, PASSWORD_RESET_LINK)  # invalid or expired
    elif user is not None and response.status_code in (301, 302, 303):
        _remember_browser(request, response, user, before)
    return response


def _resetting(view_kwargs) -> Any:
    """The account a reset link names (as `PasswordResetConfirmView` finds
    it), or None."""
    try:
        uid = urlsafe_base64_decode(view_kwargs.get("uidb64", "")).decode()
        return get_user_model()._default_manager.get(pk=uid)
    except (TypeError, ValueError, OverflowError, ValidationError, ObjectDoesNotExist):
        return None


def _remember_browser(request, response, user, before: str | None) -> None:
    """A completed reset (the password changed): the browser that did it
    becomes a known device of the account (`known_devices`), so the owner
    signs in with the new password even while the name is locked out."""
    user.refresh_from_db(fields=["password"])
    if user.password == before:
        return
    cookie = known_devices.remember_or_log(request, user)
    if cookie is not None:
        known_devices.set_cookie(request, response, cookie)


# --- the email, off the request path ---


@task()
def send_password_reset(email: str, form_class: str, options: dict[str, Any]) -> int:
    """Send the reset email(s) for `email`, as Django's `PasswordResetForm.save()`
    would have in the request. Returns the number of accounts emailed."""
    form = import_string(form_class)(data={"email": email})
    if not form.is_valid():
        return 0
    users = list(form.get_users(form.cleaned_data["email"]))
    if users:
        DjangoPasswordResetForm.save(form, **options)
    return len(users)


class PasswordResetFormMixin:
    """`save()` hands the email to the `send_password_reset` task: the request
    looks no account up, so it takes as long whether or not one exists."""

    def save(
        self,
        domain_override=None,
        subject_template_name="registration/password_reset_subject.txt",
        email_template_name="registration/password_reset_email.html",
        use_https=False,
        token_generator=default_token_generator,
        from_email=None,
        request=None,
        html_email_template_name=None,
        extra_email_context=None,
    ):
        if domain_override:
            domain = site_name = domain_override
        else:
            site = get_current_site(request)
            domain, site_name = site.domain, site.name
        options = {
            "domain_override": domain,
            "subject_template_name": subject_template_name,
            "email_template_name": email_template_name,
            "use_https": use_https,
            "from_email": from_email,
            "html_email_template_name": html_email_template_name,
            # `site_name` as the request's site names it (a `domain_override`
            # alone would make it the domain).
            "extra_email_context": {
                "site_name": site_name,
                **(extra_email_context or {}),
            },
        }
        cls = type(self)
        send_password_reset.enqueue(
            self.cleaned_data["email"], f"{cls.__module__}.{cls.__qualname__}", options
        )


class LoginLimitPasswordResetForm(PasswordResetFormMixin, DjangoPasswordResetForm):
    """For Django's `PasswordResetView(form_class=…)`."""


class PasswordResetForm(PasswordResetFormMixin, WagtailPasswordResetForm):
    """`WAGTAILADMIN_USER_PASSWORD_RESET_FORM = "wagtail_loginlimit.password_reset.PasswordResetForm"`."""


def runs_in_request() -> bool:
    """Whether the default task backend runs tasks inside the request."""
    backend = type(task_backends[send_password_reset.backend])
    return f"{backend.__module__}.{backend.__qualname__}" in IMMEDIATE_BACKENDS
