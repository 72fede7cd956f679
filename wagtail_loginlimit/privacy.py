"""Wagtail's privacy passwords: a page's (`/_util/authenticate_with_password/
<restriction>/<page>/`) and a document collection's
(`/documents/authenticate_with_password/<restriction>/`).

`LoginLimitMiddleware` hands a POST to either view, found by its URL name, to
`guard()`. Guesses are counted per client and restriction (the pair, in each
entry point's own namespace: a wrong page password never costs a login try).
A locked-out client is refused with 429 and `Retry-After` before Wagtail's
form compares the password, on `wagtail_loginlimit/password_refused.html`
(override it in your templates to give it the site's look); after a wrong
password Wagtail's own form says "N attempts remaining".
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from . import api
from .clients import DOCUMENT_PASSWORD, PAGE_PASSWORD

REFUSED_TEMPLATE = "wagtail_loginlimit/password_refused.html"

# URL name → (entry point, the view argument naming the restriction).
VIEWS = {
    "wagtailcore_authenticate_with_password": (
        PAGE_PASSWORD,
        "page_view_restriction_id",
    ),
    "wagtaildocs_authenticate_with_password": (DOCUMENT_PASSWORD, "restriction_id"),
}


def guards(url_name: str | None) -> bool:
    return url_name in VIEWS


def guard(
    request: HttpRequest, url_name: str, view_func, view_args, view_kwargs
) -> HttpResponse:
    """Run a privacy-password view with the limits around it."""
    entry, argument = VIEWS[url_name]
    key = str(view_kwargs.get(argument, ""))
    judged = api.check(request, entry, key=key)
    if judged.refused:
        return api.refusal_response(request, template=REFUSED_TEMPLATE)
    response = view_func(request, *view_args, **view_kwargs)
    if response.status_code in (301, 302, 303):  # Wagtail redirects on success
        api.succeeded(request, entry, key=key)
        return response
    form = _password_form(response)
    if form is None or not _wrong_password(form):
        return response  # nothing compared (an empty field): the try is given back
    judged = api.failed(request, entry, key=key)
    if judged.refused:
        return api.refusal_response(request, template=REFUSED_TEMPLATE)
    message = api.remaining_message(judged)
    if message:
        form.add_error("password", message)
    return response


def _password_form(response):
    if not isinstance(response, TemplateResponse) or response.is_rendered:
        return None
    form = (response.context_data or {}).get("form")
    return form if form is not None and hasattr(form, "errors") else None


def _wrong_password(form) -> bool:
    """Wagtail's form compared the password and found it wrong (an empty
    field fails as "required" before anything is compared)."""
    errors = form.errors.as_data().get("password", [])
    return any(error.code != "required" for error in errors)
