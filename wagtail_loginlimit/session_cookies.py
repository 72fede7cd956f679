"""Session cookies that name no session (forged, or left over), counted per IP
at the `session_cookie` entry point (`session_cookie_retries` of them before
a lockout; 0: not counted).

Counted when the response leaves, and only for a request whose view read the
session (a cookie nobody looked up tells an attacker nothing): the cookie was
sent, the session was read and not changed (a login changes it), nobody
signed out (Wagtail's logout marks its emptied session unchanged), and it
holds nothing. Django deletes such a cookie in the same response, so a
person's stale cookie counts once; a forger's every try counts.

Nothing is refused for it: a session key (32 random characters) cannot be
guessed, and refusing an address's sessions would sign out everyone behind
it. The count makes forgery visible: the failed-logins report, a lockout
record and its security-log line (which fail2ban bans on), the events.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver

from . import api
from .clients import SESSION_COOKIE
from .code_settings import code_value
from .decision import ensure_record, record_of

SIGNED_OUT = "signed_out"


@receiver(user_logged_out, dispatch_uid="wagtail_loginlimit.session_cookies")
def _note_logout(sender, request=None, **kwargs) -> None:
    if request is not None:
        ensure_record(request).extra[SIGNED_OUT] = True


def names_no_session(request: Any) -> bool:
    """Whether the request's session cookie turned out to name no session."""
    if not request.COOKIES.get(settings.SESSION_COOKIE_NAME):
        return False
    session = getattr(request, "session", None)
    if session is None or not session.accessed or session.modified:
        return False
    record = record_of(request)
    if record is not None and record.extra.get(SIGNED_OUT):
        return False
    # Read already (`accessed`): no second look-up.
    return not session.keys()


def count_if_forged(request: Any) -> None:
    """Count the request's session cookie if it named no session."""
    if not code_value("session_cookie_retries") or not names_no_session(request):
        return
    api.failed(request, SESSION_COOKIE)
