"""The public API: count the guesses at a form of your own (a PIN, a share
link's password, a one-time code) with the same rules, stores, reports,
events and security log as the site's logins.

    from wagtail_loginlimit import api

    def unlock_box(request, box):
        judged = api.check(request, "box_pin", key=str(box.pk))
        if judged.refused:
            return api.refusal_response(request)  # 429 + Retry-After (403, 503)
        if constant_time_compare(request.POST.get("pin", ""), box.pin):
            api.succeeded(request, "box_pin", key=str(box.pk))
            return redirect(box.url)
        judged = api.failed(request, "box_pin", key=str(box.pk))
        messages.error(request, api.remaining_message(judged))
        ...

`check()` goes before the secret is compared: it reserves one try, so that
parallel requests cannot all slip past the limit. `failed()` or `succeeded()`
settles it; a request that reports neither gives it back when it leaves
(`LoginLimitMiddleware`). Each entry point counts in its own namespace:
guesses at a box's PIN never use up anyone's login tries, nor the other way
round. See docs/entry-points.md.
"""

from __future__ import annotations

from dataclasses import dataclass

from axes.handlers.proxy import AxesProxyHandler
from django.http import HttpRequest, HttpResponse

from . import decision, outcomes, policy, responses, storage, waiting
from .clients import (
    API_TOKEN,
    BUILT_IN,
    BY_LOCKOUT_METHOD,
    OTP,
    PASSWORD_RESET,
    SESSION_COOKIE,
    SIGN_IN_LINK,
    EntryPoint,
)
from .conf import Config, get_config
from .forms import remaining_message as _remaining

__all__ = [
    "EntryPoint",
    "Judged",
    "check",
    "entry_point",
    "failed",
    "refusal_response",
    "register",
    "remaining_message",
    "succeeded",
]

_registered: dict[str, EntryPoint] = dict(BUILT_IN)


def register(name: str, *, counted_by: str = BY_LOCKOUT_METHOD) -> EntryPoint:
    """Name an entry point and say what its attempts are counted by:
    `"lockout_method"` (the default: as logins are, with `key` in the
    username's place), `"ip"`, `"key"`, `"ip_and_key"` (the pair) or
    `"ip_or_key"` (each on its own, the stricter winning). Registering is
    optional; an unregistered name counts by `lockout_method`."""
    entry = EntryPoint(name, counted_by)
    known = _registered.get(name)
    if known is not None and known != entry:
        raise ValueError(f"The entry point {name!r} is registered already.")
    _registered[name] = entry
    return entry


def entry_point(name: str | EntryPoint) -> EntryPoint:
    """The entry point of `name` (registered, built in, or counted by
    `lockout_method`)."""
    if isinstance(name, EntryPoint):
        return name
    return _registered.get(name) or EntryPoint(name)


# Entry points with limits of their own: the `Config` property that has them.
_OWN_LIMITS = {
    PASSWORD_RESET: "password_reset_limits",
    API_TOKEN: "api_token_limits",
    SESSION_COOKIE: "session_cookie_limits",
    OTP: "otp_limits",
    # Asking for sign-in links: as many as password-reset requests.
    SIGN_IN_LINK: "password_reset_limits",
}


def _limits(request, entry: EntryPoint) -> policy.Limits | None:
    """An entry point's own limits (password-reset requests, API tokens,
    session cookies), else None: the configured ones."""
    if entry.name not in _OWN_LIMITS:
        return None
    try:
        config: Config = get_config(request)
    except storage.DATABASE_DOWN:
        return None  # `decide()` meets the same error and answers it
    return getattr(config, _OWN_LIMITS[entry.name])


@dataclass(frozen=True)
class Judged:
    """What `check()` or `failed()` made of an attempt."""

    decision: decision.Decision

    @property
    def allowed(self) -> bool:
        return self.decision.allowed

    @property
    def refused(self) -> bool:
        return self.decision.refused

    @property
    def counted(self) -> bool:
        """Whether a failure counts (False: plugin off, whitelisted IP, store
        down with `on_store_error = "allow"`)."""
        return self.decision.counted

    @property
    def tries_left(self) -> int:
        return self.decision.tries_left

    @property
    def retry_after(self) -> int | None:
        return self.decision.retry_after

    @property
    def locked_until(self):
        return self.decision.locked_until

    @property
    def entry_point(self) -> str:
        return self.decision.entry_point.name


def check(
    request: HttpRequest,
    entry: str | EntryPoint,
    *,
    key: str | None = None,
    reserve: bool = True,
) -> Judged:
    """May this client try the secret of `entry` (for `key`: the account,
    address or object the secret belongs to) now? Call it before comparing
    the secret; if `refused`, answer with `refusal_response()` and compare
    nothing.

    `reserve=False` only reads (no write to the store): for a door asked on
    every request, such as API tokens, whose secrets are too long for a
    burst of parallel guesses to matter."""
    entry = entry_point(entry)
    # The address, path and agent django-axes records, as for a login.
    AxesProxyHandler.update_request(decision.django_request(request))
    judged = decision.decide(
        request,
        key,
        reserve=reserve,
        entry_point=entry,
        limits=_limits(request, entry),
    )
    if judged.refused:
        decision.refuse(request, judged)
        _keep_away_from_axes(request)
    return Judged(judged)


def failed(
    request: HttpRequest, entry: str | EntryPoint, *, key: str | None = None
) -> Judged:
    """The secret was wrong: count it (a lockout may begin), write the failure
    log and the security log line, fire `loginlimit_insert` (and
    `loginlimit_block`). Returns what the person may be told now."""
    entry = entry_point(entry)
    outcomes.record_failure(
        request, key, entry_point=entry, limits=_limits(request, entry)
    )
    status = decision.status_of(request)
    if status is None or status.entry_point != entry:
        status = decision.decide(
            request,
            key,
            reserve=False,
            entry_point=entry,
            limits=_limits(request, entry),
        )
    return Judged(status)


def succeeded(
    request: HttpRequest, entry: str | EntryPoint, *, key: str | None = None
) -> None:
    """The secret was right: forgive this client's failures at `entry` for
    `key` (and nothing else) and settle its try."""
    entry = entry_point(entry)
    outcomes.record_entry_success(request, key, entry, _limits(request, entry))


def refusal_response(
    request: HttpRequest, *, template: str | None = None
) -> HttpResponse:
    """The answer to a refused attempt: 429 with `Retry-After` while locked
    out, 403 for a blacklisted address, 503 while the store is down; JSON for
    API clients. `template` renders it in the site's own look instead of the
    Wagtail admin's (it gets `message`, `locked_until`, `retry_after`)."""
    return responses.refusal_response(request, template=template)


def remaining_message(judged: Judged) -> str:
    """ "3 attempts remaining." (with the progressive delay "… You can try
    again in 2 seconds.", or the lockout's message when refused); "" when
    nothing is counted."""
    if judged.refused:
        return responses.lockout_message(judged.decision)
    if not judged.counted:
        return ""
    wait = judged.decision.wait_seconds  # the progressive delay, if it is on
    if wait:
        return f"{_remaining(judged.tries_left)} {waiting.wait_text(wait)}"
    return _remaining(judged.tries_left)


def _keep_away_from_axes(request) -> None:
    """A refusal through the API is answered by its caller: axes' middleware
    must not swap the caller's response for its own."""
    request = decision.django_request(request)
    request.axes_locked_out = False
