"""The challenge: after `captcha_after` failures of a client, and for every
unknown device once an account's budget is spent (`account_budget`: the
failures one client could make in the valid window, from unknown devices,
under every lockout method), and for every unknown device in attack mode
(`attack`), the next login must first show that a person's browser is
there. Nobody is locked out by either.

By default it is a proof of work, ALTCHA (PyPI `altcha`; its widget vendored
into this app's static files): the page carries a challenge signed with the
site's `SECRET_KEY`, the browser finds its answer in a moment (PBKDF2, about
256 guesses of `challenge_cost` iterations), and the server checks the answer
with one HMAC. No third party, nothing to configure, no image to read: a
checkbox that a keyboard and a screen reader use like any other, in the
page's language. Each answer is good for one login only, for 10 minutes. A
site may name another form field instead (`challenge_field`: django-recaptcha,
hCaptcha, Turnstile…).

The login forms (`LoginLimitFormMixin`: the Wagtail admin's, the Django
admin's and any `LoginView` using it) add the field when it is due and check
it before `authenticate()` runs: a missing or failed challenge checks no
password, counts nothing and says what to do. The backend refuses a login
view's attempt that reached it without a passed challenge (a form without the
field), uncounted too.
"""

from __future__ import annotations

import base64
import json
import logging
import time
from datetime import timedelta
from typing import Any

import altcha
from django import forms
from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.templatetags.static import static
from django.utils.crypto import salted_hmac
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from . import attack, decision, known_devices, responses, storage
from .code_settings import code_value
from .conf import get_config

logger = logging.getLogger(__name__)

FIELD_NAME = "loginlimit_challenge"
ALGORITHM = "PBKDF2/SHA-256"
LIFETIME = timedelta(minutes=10)
SCRIPT = "wagtail_loginlimit/vendor/altcha/altcha.i18n.min.js"
PASSED, REFUSED = "passed", "refused"  # `AttemptRecord.challenge`


def _secret(purpose: str) -> str:
    return salted_hmac(f"wagtail_loginlimit.challenge.{purpose}", "").hexdigest()


# --- when it is due ---


def required(request: Any, username: str | None) -> bool:
    """Whether a login of `request` naming `username` must pass the challenge:
    the client's failures (its own counters') reached `captcha_after`."""
    if request is None:
        return False
    return _due(request, decision.decide(request, username, reserve=False))


def _due(request: Any, judged: decision.Decision) -> bool:
    config = judged.config
    if config is None or not config.enabled or judged.refused:
        return False  # off, or refused anyway (the refusal answers)
    if judged.client is None or decision.is_trusted(judged.client, config):
        return False  # the store is down, or a trusted address
    if judged.device is None and _attack_mode(request, config):
        return True
    if not judged.counted:
        return False  # exempt, or the store is down
    if config.captcha_after and judged.verdict.failures >= config.captcha_after:
        return True
    return over_account_budget(judged)


def _attack_mode(request: Any, config) -> bool:
    """Attack mode is on (`attack`): one small query (the open period)."""
    if not config.attack_threshold:
        return False
    try:
        return attack.active(config)
    except storage.DATABASE_DOWN:
        return False


def offers_sign_in_link(request: Any) -> bool:
    """In attack mode the login form offers "Email me a sign-in link" next to
    the challenge: the owner on a new browser gets in without the puzzle."""
    if request is None or not known_devices.enabled():
        return False
    try:
        return _attack_mode(request, get_config(request))
    except storage.DATABASE_DOWN:
        return False


def over_account_budget(judged: decision.Decision) -> bool:
    """Whether the account the attempt names has had `account_budget`
    failures from unknown devices in the valid window, and the attempt comes
    from one (a known device is never asked)."""
    config, client = judged.config, judged.client
    if config is None or client is None or not client.username:
        return False
    if judged.device is not None or not config.account_budget_size:
        return False
    try:
        spent = storage.peek(
            [decision.account_budget_key(client)],
            judged.now,
            config.account_budget_limits,
        )
    except storage.StoreUnavailable:
        return False  # the login's own decision answers the store's state
    return spent.failures >= config.account_budget_size


def mark(request: Any, state: str) -> None:
    """Record that the attempt passed the challenge, or was refused for want
    of it (then nothing counts it: `outcomes.record_failure`; attack mode
    hears of it)."""
    record = decision.ensure_record(request)
    if state == REFUSED and record.challenge != REFUSED:
        config = record.decision.config if record.decision else None
        attack.note_refused(config or get_config(request))
    record.challenge = state


def state_of(request: Any) -> str | None:
    record = decision.record_of(request)
    return record.challenge if record is not None else None


def enforced(request: Any, username: str | None) -> bool:
    """Whether the backend must refuse this attempt: a login view's, due for
    the challenge, which no form passed."""
    record = decision.record_of(request)
    if record is None or not record.via_login_view or record.challenge == PASSED:
        return False
    reserved = record.reserved
    if reserved is not None and _is_for(request, reserved, username):
        # The try reserved a moment ago by this authenticate(): its count is
        # from before the reservation, so the reservation itself cannot make
        # the last try look "busy" (refused anyway) and so not due.
        return _due(request, reserved)
    return required(request, username)


def _is_for(request: Any, judged: decision.Decision, username: str | None) -> bool:
    if judged.client is None or judged.config is None:
        return False
    named = decision.identity(request, username, judged.config, judged.entry_point)
    return named.username == judged.client.username


# --- the built-in ALTCHA challenge ---


def new_challenge() -> dict:
    """A signed challenge for the widget, valid for `LIFETIME`."""
    challenge = altcha.create_challenge(
        ALGORITHM,
        code_value("challenge_cost"),
        expires_at=int(time.time() + LIFETIME.total_seconds()),
        hmac_secret=_secret("challenge"),
        hmac_key_secret=_secret("key"),
    )
    return challenge.to_dict()


def verify(payload: Any) -> bool:
    """Whether `payload` (the widget's answer) solves a challenge of this
    site that has not expired and was not used before. Never raises."""
    if not isinstance(payload, str) or not payload or len(payload) > 4000:
        return False
    try:
        result = altcha.verify_solution(
            payload, _secret("challenge"), hmac_key_secret=_secret("key")
        )
    except Exception:  # a hostile payload must not become a 500
        return False
    if not result.verified:
        return False
    # One login per answer: the first to claim it wins.
    try:
        signature = json.loads(_b64(payload))["challenge"]["signature"]
        cache = caches[code_value("cache_alias")]
        return cache.add(
            f"wagtail_loginlimit:challenge:{signature}",
            1,
            timeout=int(LIFETIME.total_seconds()) + 60,
        )
    except Exception:
        logger.exception("Could not record a used challenge; it is refused.")
        return False


def _b64(payload: str) -> str:
    return base64.b64decode(payload).decode()


class ChallengeWidget(forms.Widget):
    """`<altcha-widget>` with a fresh challenge and the vendored script."""

    # Set by the login form in attack mode (`offers_sign_in_link`).
    offers_sign_in_link = False

    def render(self, name, value, attrs=None, renderer=None):
        language = (get_language() or settings.LANGUAGE_CODE).split("-")[0]
        widget = format_html(
            '<altcha-widget name="{}" challenge="{}" language="{}" type="checkbox"'
            ' hidefooter id="{}"></altcha-widget>'
            '<script type="module" src="{}"></script>'
            '<noscript><p class="help-block">{}</p></noscript>',
            name,
            json.dumps(new_challenge()),
            language,
            (attrs or {}).get("id", f"id_{name}"),
            static(SCRIPT),
            _("This check needs JavaScript: turn it on to sign in."),
        )
        if not self.offers_sign_in_link:
            return widget
        # A link, not a button: a second submit button in the login form would
        # be the one Enter presses.
        return format_html(
            '{}<p class="help-block">{} <a href="?{}=1">{}</a></p>',
            widget,
            _(
                "This site is under attack: browsers that have not signed in "
                "before must pass this check. Or:"
            ),
            responses.SIGN_IN_LINK_PAGE,
            _("Email me a sign-in link"),
        )

    def value_from_datadict(self, data, files, name):
        # The widget posts its answer as `name`; ALTCHA's default name too.
        return data.get(name) or data.get("altcha")


class ChallengeField(forms.Field):
    widget = ChallengeWidget
    default_error_messages = {
        "required": _(
            "Confirm that you are a person: tick the check below, then sign in "
            "again. Nothing was counted."
        ),
        "invalid": _(
            "The check did not pass or has expired: tick it again, then sign in. "
            "Nothing was counted."
        ),
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("Are you a person?"))
        super().__init__(**kwargs)

    def clean(self, value):
        if not value:
            raise ValidationError(self.error_messages["required"], code="required")
        if not verify(value):
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return "passed"


def field() -> forms.Field:
    """The challenge's form field: `challenge_field`'s class, or ALTCHA's."""
    chosen = code_value("challenge_field")
    if not (isinstance(chosen, type) and issubclass(chosen, forms.Field)):
        return ChallengeField()  # none named, or not a field (check E022)
    return chosen()
