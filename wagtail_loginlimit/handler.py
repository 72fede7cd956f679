"""The django-axes handler (`AXES_HANDLER`): axes' questions and signals, handed
to this plugin's one decision and its outcomes.

Axes keeps doing what it does: its backend asks `is_allowed()` before any
password is checked, its signal receivers call `user_login_failed()` /
`user_logged_in()`, its access log records sign-ins. Every answer comes from
`decision.decide()`; every outcome goes to `outcomes`. Axes' own reset tools
(`axes_reset`, `axes_reset_ip`, `axes_reset_username`, `axes.utils.reset()`)
lift this plugin's lockouts through `unlocking`.
"""

from __future__ import annotations

from typing import Any

from axes import signals as axes_signals
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from django.contrib.auth.signals import user_login_failed
from django.core.management.base import CommandError

from . import decision, outcomes, unlocking
from .backends import warn_without_request
from .models import Lockout

# Decisions whose client has a count (tries left, or none while locked out).
_COUNTED = (decision.ALLOWED, decision.LOCKED, decision.BUSY)


def username_of(request: Any, credentials: dict | None = None) -> str | None:
    """The username a login names, where axes finds it (`AXES_USERNAME_FORM_FIELD`
    or `AXES_USERNAME_CALLABLE`); None for input that has none."""
    try:
        username = get_client_username(request, credentials)
    except Exception:  # a hostile POST body must not turn into a 500
        return None
    if username is not None and not isinstance(username, str):
        username = str(username)
    return username


def on_user_login_failed(sender, credentials, request=None, **kwargs):
    """Django's `user_login_failed`, handed to axes' receiver unless the failed
    `authenticate()` had no request: axes would log an error for each such call
    (and could not count it); the backend has already warned, once."""
    if request is None:
        return
    axes_signals.handle_user_login_failed(
        sender=sender, credentials=credentials, request=request, **kwargs
    )


def replace_axes_failure_receiver() -> None:
    """Put `on_user_login_failed` in the place of axes' own receiver."""
    user_login_failed.disconnect(axes_signals.handle_user_login_failed)
    user_login_failed.connect(
        on_user_login_failed, dispatch_uid="wagtail_loginlimit.user_login_failed"
    )


class LoginLimitHandler(AxesDatabaseHandler):
    # --- questions axes asks ---

    def is_allowed(self, request, credentials: dict | None = None) -> bool:
        judged = decision.decide(
            request, username_of(request, credentials), reserve=True
        )
        if judged.refused:
            decision.refuse(request, judged)
        return judged.allowed

    def is_locked(self, request, credentials: dict | None = None) -> bool:
        judged = decision.decide(
            request, username_of(request, credentials), reserve=False
        )
        return judged.refused

    def get_failures(self, request, credentials: dict | None = None) -> int:
        judged = decision.decide(
            request, username_of(request, credentials), reserve=False
        )
        if judged.config is None or judged.reason not in _COUNTED:
            return 0
        return judged.config.allowed_retries - judged.tries_left

    def is_blacklisted(self, request, credentials: dict | None = None) -> bool:
        judged = decision.decide(
            request, username_of(request, credentials), reserve=False
        )
        return judged.forbidden

    def is_whitelisted(self, request, credentials: dict | None = None) -> bool:
        judged = decision.decide(
            request, username_of(request, credentials), reserve=False
        )
        return judged.reason == decision.EXEMPT

    # --- outcomes, from Django's auth signals via axes' receivers ---

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        if request is None:
            warn_without_request()  # not counted: there is no client
            return
        outcomes.record_failure(request, username_of(request, credentials), credentials)

    def user_logged_in(self, sender, request, user, **kwargs):
        # Axes writes its access log; then the client's count starts afresh.
        super().user_logged_in(sender, request, user, **kwargs)
        outcomes.record_success(request, user)

    # --- axes' reset tools lift this plugin's lockouts ---

    def reset_attempts(
        self,
        *,
        ip_address: str | None = None,
        username: str | None = None,
        ip_or_username: bool = False,
    ) -> int:
        """`axes.utils.reset()` and the `axes_reset*` commands: lift the lockouts
        and forget the counts of an IP, a username, both (the pair, or each on
        its own with `ip_or_username`), or everything; audit-logged and
        announced as a `loginlimit_reset` with reason "command", like
        `loginlimit_unlock`. Returns the lockouts lifted and counts forgotten,
        plus axes' own attempt rows."""
        reason = Lockout.LIFTED_COMMAND
        try:
            if ip_address and username and ip_or_username:
                results = [
                    unlocking.unlock(ip=ip_address, reason=reason),
                    unlocking.unlock(username=username, reason=reason),
                ]
            elif ip_address or username:
                results = [
                    unlocking.unlock(ip=ip_address, username=username, reason=reason)
                ]
            else:
                results = [unlocking.unlock(everything=True, reason=reason)]
        except ValueError as error:  # an unusable IP address
            raise CommandError(str(error)) from error
        clients = {c.key for r in results for c in [*r.counters, *r.lockouts]}
        return len(clients) + super().reset_attempts(
            ip_address=ip_address, username=username, ip_or_username=ip_or_username
        )

    # --- axes housekeeping that this policy replaces ---

    def clean_expired_user_attempts(self, request=None, credentials=None) -> int:
        # Axes deletes every attempt older than *this* request's cool-off, which
        # can end another client's longer lockout. Counters here expire one by one.
        return 0

    def reset_user_attempts(self, request, credentials=None) -> int:
        return 0
