"""The owner's way back (Auth0's "unblock link"): "Email me a sign-in link".

The lockout page of a login offers it, and so does the login form itself in
attack mode (a link next to the challenge, to a page with the same form). The request is answered the same way
whether or not the typed name is anyone's, and does the same work: it counts
at the `sign_in_link` entry point (per IP and per name, as many as
password-reset requests: `password_reset_limit` per `password_reset_window`)
and hands the email to a task, which looks the account up. The email goes to
the account's own address with a link to the same login page, signed and
valid for 15 minutes. Opening it shows a button (a mail scanner that follows
links uses nothing up); pressing it, once, makes that browser a known device
of the account (`known_devices`): the owner then signs in with the password as
usual, while whoever caused the lockout stays locked out.

Completing Django's or Wagtail's password reset makes the browser a known
device too (`password_reset`).

All of it is served by the login view's own URL (`LoginLimitMiddleware`), so
that no URL needs adding to a site.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import router, transaction
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_protect

from . import accounts, api, known_devices, responses
from .clients import SIGN_IN_LINK, clip_text
from .code_settings import code_value
from .models import SignInLink
from .users import account_key, find_user

try:  # Django 6: the tasks framework is Django's own.
    from django.tasks import task
except ImportError:  # Django 5.2: the backport.
    from django_tasks import task

logger = logging.getLogger(__name__)

# The name typed on the lockout page (a POST to the login view).
ASK_FIELD = responses.SIGN_IN_LINK_FIELD
# The page with that form, linked from the login form in attack mode.
ASK_PAGE = responses.SIGN_IN_LINK_PAGE
# The link's signed token (in the emailed URL, then in the button's form).
TOKEN_FIELD = "loginlimit_link"  # noqa: S105 (a field name, no secret)
LIFETIME = timedelta(minutes=15)
_SALT = "wagtail_loginlimit.sign_in_links"
EMAIL_TEMPLATES = (
    "wagtail_loginlimit/emails/sign_in_link_subject.txt",
    "wagtail_loginlimit/emails/sign_in_link.txt",
    "wagtail_loginlimit/emails/sign_in_link.html",
)
TEMPLATE = "wagtail_loginlimit/sign_in_link.html"
PUBLIC_TEMPLATE = "wagtail_loginlimit/public/sign_in_link.html"


def enabled() -> bool:
    """Sign-in links make browsers known devices: off with them."""
    return known_devices.enabled()


def handles(request: HttpRequest) -> bool:
    """Whether a request to a login view is for a sign-in link, not a login."""
    if not enabled():
        return False
    if request.method == "GET":
        return TOKEN_FIELD in request.GET or ASK_PAGE in request.GET
    return request.method == "POST" and (
        ASK_FIELD in request.POST or TOKEN_FIELD in request.POST
    )


@csrf_protect
def handle(request: HttpRequest) -> HttpResponse:
    """Ask for a link, show an emailed link's button, or use the link."""
    if request.method == "GET" and TOKEN_FIELD in request.GET:
        return _confirm(request, request.GET.get(TOKEN_FIELD, ""))
    if request.method == "GET":
        return _page(
            request,
            _(
                "Type your username: a link that lets this browser sign in goes "
                "to the account's email address."
            ),
            level="info",
            ask=True,
        )
    if TOKEN_FIELD in request.POST:
        return _use(request, request.POST.get(TOKEN_FIELD, ""))
    return _ask(request, request.POST.get(ASK_FIELD, ""))


# --- asking ---


def _ask(request: HttpRequest, typed: Any) -> HttpResponse:
    name = clip_text(typed.strip()) if isinstance(typed, str) else None
    if not name:
        return _page(
            request,
            _("Type the username you sign in with to get a sign-in link."),
            status=400,
        )
    judged = api.check(request, SIGN_IN_LINK, key=name)
    if judged.refused:
        return api.refusal_response(request)
    # Every request counts, whether or not the name is anyone's.
    api.failed(request, SIGN_IN_LINK, key=name)
    send_sign_in_link.enqueue(
        name, login_url(request), translation.get_language() or settings.LANGUAGE_CODE
    )
    return _page(
        request,
        _(
            "If an account goes by that name, a sign-in link is on its way to "
            "its email address. The link works once, for 15 minutes."
        ),
        level="success",
    )


def login_url(request: HttpRequest) -> str:
    """The login page's address for the email: under `WAGTAILADMIN_BASE_URL`
    when set, else the request's host, which Django checks against
    `ALLOWED_HOSTS` (as its password-reset email does)."""
    base = getattr(settings, "WAGTAILADMIN_BASE_URL", "") or ""
    if base:
        return base.rstrip("/") + request.path
    return request.build_absolute_uri(request.path)


@task()
def send_sign_in_link(typed: str, url: str, language: str) -> int:
    """Email a sign-in link to the account `typed` names, if it has an
    address. Returns the number of emails sent (0 or 1)."""
    identify = code_value("identify_account", report=False)
    user = find_user(account_key(typed, None, identify))
    if user is None or (not user.is_active and not _deactivated_by_us(user)):
        return 0  # nobody, or an account an administrator made inactive
    address = getattr(user, get_user_model().get_email_field_name(), "") or ""
    if not address:
        return 0
    token = secrets.token_urlsafe(32)
    SignInLink.objects.create(
        user=user, token_hash=_hashed(token), created_at=timezone.now()
    )
    signed = signing.TimestampSigner(salt=_SALT).sign(token)
    context = {
        "link": f"{url}?{TOKEN_FIELD}={signed}",
        "username": user.get_username(),
        "site_name": getattr(settings, "WAGTAIL_SITE_NAME", "") or "",
        "minutes": int(LIFETIME.total_seconds() // 60),
    }
    subject_template, text_template, html_template = EMAIL_TEMPLATES
    with translation.override(language):
        subject = " ".join(render_to_string(subject_template, context).split())
        message = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string(text_template, context),
            to=[address],
        )
        message.attach_alternative(
            render_to_string(html_template, context), "text/html"
        )
    message.send()
    return 1


def _deactivated_by_us(user) -> bool:
    """An inactive account this plugin deactivated: its owner needs the link
    most (a known device makes it active again at the next sign-in)."""
    return accounts.deactivated().filter(user=user).exists()


def _hashed(token: str) -> str:
    return hashlib.sha256(token.encode("ascii", "replace")).hexdigest()


# --- using ---


def _link(signed: Any) -> SignInLink | None:
    """The unused, unexpired link `signed` names, or None."""
    if not isinstance(signed, str) or len(signed) > 200:
        return None
    try:
        token = signing.TimestampSigner(salt=_SALT).unsign(
            signed, max_age=LIFETIME.total_seconds()
        )
    except signing.BadSignature:  # forged, altered, or older than 15 minutes
        return None
    return (
        SignInLink.objects.filter(token_hash=_hashed(token), used_at__isnull=True)
        .select_related("user")
        .first()
    )


def _expired(request: HttpRequest) -> HttpResponse:
    return _page(
        request,
        _(
            "This sign-in link has expired or was used already. Ask for a new "
            "one on the sign-in page."
        ),
        status=400,
    )


def _confirm(request: HttpRequest, signed: Any) -> HttpResponse:
    link = _link(signed)
    if link is None:
        return _expired(request)
    return _page(
        request,
        _("Sign in as “%(username)s” from this browser?")
        % {"username": link.user.get_username()},
        level="info",
        token=signed,
    )


def _use(request: HttpRequest, signed: Any) -> HttpResponse:
    link = _link(signed)
    if link is None:
        return _expired(request)
    with transaction.atomic(using=router.db_for_write(SignInLink)):
        # Of two requests with one link, only one makes its browser known.
        claimed = SignInLink.objects.filter(pk=link.pk, used_at__isnull=True).update(
            used_at=timezone.now()
        )
        if not claimed:
            return _expired(request)
        cookie = known_devices.remember(request, link.user, None)
    response = _page(
        request,
        _(
            "This browser is now known to “%(username)s”: sign in with your "
            "password, even while the account is locked out for others."
        )
        % {"username": link.user.get_username()},
        level="success",
    )
    if cookie is not None:
        known_devices.set_cookie(request, response, cookie)
    return response


def _page(
    request: HttpRequest,
    message: str,
    *,
    level: str = "error",
    status: int = 200,
    token: str | None = None,
    ask: bool = False,
) -> HttpResponse:
    admin = responses.in_wagtail_admin(request)
    response = TemplateResponse(
        request,
        TEMPLATE if admin else PUBLIC_TEMPLATE,
        {
            "message": message,
            "message_level": level,
            "token": token,
            "token_field": TOKEN_FIELD,
            "back_url": request.path,
            # The form that asks for a link (the page linked in attack mode).
            "sign_in_link": ask,
            "sign_in_link_field": ASK_FIELD,
        },
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response.render()
