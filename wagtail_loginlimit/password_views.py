"""The password change: the old-password check of Django's `PasswordChangeView`
(the Django admin's among them) and of the Wagtail admin's account page.

`LoginLimitMiddleware` hands a POST to either view to `guard()`. The checks
are counted per account (the signed-in user's name, in the
`password_change` namespace): whoever holds the session, from whichever
address, gets `allowed_retries` guesses at the old password before a lockout.
While locked out the request is refused with 429 and `Retry-After` before the
view runs, so no password is hashed; after a wrong old password the form says
"N attempts remaining".
"""

from __future__ import annotations

from django.contrib.auth.views import PasswordChangeView
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from . import api
from .clients import PASSWORD_CHANGE

# Django's URL name (django.contrib.auth.urls, the Django admin).
DJANGO_PASSWORD_CHANGE = "password_change"  # noqa: S105 (a URL name)
# The Wagtail admin's account page, and the prefix of its password panel.
WAGTAIL_ACCOUNT = "wagtailadmin_account"
WAGTAIL_PANEL = "password"
OLD_PASSWORD = "old_password"  # noqa: S105 (a field name)
WRONG = "password_incorrect"  # Django's error code for a wrong old password


def _view_class(view_func):
    view_class = getattr(view_func, "view_class", None)
    return view_class if isinstance(view_class, type) else None


def guards(request: HttpRequest, url_name: str | None, view_func) -> bool:
    """A POST that checks the signed-in user's old password."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False  # the view sends the visitor to the login page
    view_class = _view_class(view_func)
    if view_class is not None and issubclass(view_class, PasswordChangeView):
        return True
    if url_name == DJANGO_PASSWORD_CHANGE:
        return True  # the Django admin's (a method around the same view)
    if url_name == WAGTAIL_ACCOUNT:
        # Wagtail binds (and checks) the password panel only when a new
        # password was typed.
        return any(
            request.POST.get(f"{WAGTAIL_PANEL}-{field}")
            for field in ("new_password1", "new_password2")
        )
    return False


def guard(
    request: HttpRequest, url_name: str | None, view_func, view_args, view_kwargs
) -> HttpResponse:
    key = request.user.get_username()
    judged = api.check(request, PASSWORD_CHANGE, key=key)
    if judged.refused:
        return api.refusal_response(request)
    response = view_func(request, *view_args, **view_kwargs)
    if response.status_code in (301, 302, 303):  # the password was changed
        api.succeeded(request, PASSWORD_CHANGE, key=key)
        return response
    form = _checked_form(response)
    if form is None or not form.has_error(OLD_PASSWORD, WRONG):
        return response  # the old password was not checked, or was right
    judged = api.failed(request, PASSWORD_CHANGE, key=key)
    if judged.refused:
        return api.refusal_response(request)
    message = api.remaining_message(judged)
    if message:
        form.add_error(OLD_PASSWORD, message)
    return response


def _checked_form(response):
    """The password form the view validated, from its unrendered response:
    Django's `form`, or the Wagtail account page's password panel."""
    if not isinstance(response, TemplateResponse) or response.is_rendered:
        return None
    context = response.context_data or {}
    form = context.get("form")
    if form is not None and OLD_PASSWORD in getattr(form, "fields", {}):
        return form
    for panels in (context.get("panels_by_tab") or {}).values():
        for panel in panels:
            if getattr(panel, "name", None) == WAGTAIL_PANEL:
                return _pinned_form(panel)
    return None


def _pinned_form(panel):
    """The account page builds its password form anew for each look (its view,
    then its template): validate it once here and let the template show that
    one, so the old password is hashed no more often than Wagtail does."""
    form = panel.get_form()
    panel.get_form = lambda: form
    return form
