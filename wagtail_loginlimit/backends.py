"""The authentication backend: django-axes' standalone backend, made safe on the
async path, and usable where a site's other code and tests expect a backend.

- django-axes 8.3's `AxesBackend` inherits `aauthenticate()` from `ModelBackend`,
  which checks the password without asking axes first: under `aauthenticate()` a
  locked-out user with the right password gets in. This backend runs the same
  lockout check on both paths and leaves password checking to the backends
  after it.
- `authenticate()` without a `request` (Django's test `Client.login()`, site
  code that calls `authenticate(username=…, password=…)`) is let through to the
  next backends and not counted: there is no client to count it against. One
  warning says so, once per process. With `"require_request": True` in
  `WAGTAIL_LOGINLIMIT` it raises axes' `AxesBackendRequestParameterRequired`
  instead, as axes' own backend does.
- A deactivated account's owner signing in from one of its known devices
  with the right password makes the account active again (`known_devices`):
  deactivation never shuts out the owner's own browsers. Nobody else's
  lockout is lifted by it.
- `get_user()` hands the session's user id to the next backend, so a session
  that names this backend (`client.force_login(user,
  settings.AUTHENTICATION_BACKENDS[0])`, which Wagtail's `WagtailPageTestCase`
  does) stays signed in.
"""

from __future__ import annotations

import functools
import logging

from asgiref.sync import sync_to_async
from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendRequestParameterRequired
from django.conf import settings
from django.contrib.auth import load_backend
from django.core.exceptions import PermissionDenied

from . import accounts, challenge, decision
from .code_settings import code_settings, code_value
from .models import Deactivation

logger = logging.getLogger(__name__)


@functools.cache
def warn_without_request() -> None:
    """Said once per process (the first call without a request), not per call:
    a test suite that signs in with `Client.login()` hundreds of times gets
    one line. `warn_without_request.cache_clear()` says it again."""
    logger.warning(
        "authenticate() was called without `request`: wagtail-loginlimit cannot "
        "tell the client, so such logins are not counted or limited. Pass "
        "`request` to authenticate(); in tests, sign in with "
        "client.force_login(user) or post to the login page. Set "
        '"require_request": True in WAGTAIL_LOGINLIMIT to refuse such calls. '
        "(Said once per process.)"
    )


def reactivate_for_known_device(request, password) -> None:
    """The attempt comes from a known device of an account this plugin
    deactivated, and the password is right: make the account active, so that
    the backends after this one let the owner in. (One extra password check,
    only in this case.)"""
    judged = decision.status_of(request)
    device = judged.device if judged is not None else None
    if device is None or password is None:
        return
    user = device.user
    if user.is_active or not accounts.deactivated().filter(user=user).exists():
        return  # active, or made inactive by an admin: not ours to undo
    if user.check_password(password):
        accounts.reactivate(
            user, reason=Deactivation.REACTIVATED_KNOWN_DEVICE, request=request
        )


class LoginLimitBackend(AxesStandaloneBackend):
    """Put first in `AUTHENTICATION_BACKENDS`; it never logs anyone in itself."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            if not settings.AXES_ENABLED or code_settings().turned_off:
                pass  # the plugin is off: nothing to count or to warn about
            elif code_value("require_request"):
                raise AxesBackendRequestParameterRequired(
                    "LoginLimitBackend requires a request as an argument to "
                    'authenticate() ("require_request" in WAGTAIL_LOGINLIMIT)'
                )
            else:
                warn_without_request()
        else:
            super().authenticate(
                request, username=username, password=password, **kwargs
            )
            if challenge.enforced(request, username):
                # A login form without the challenge field: no password is
                # checked and nothing counted (`challenge`).
                challenge.mark(request, challenge.REFUSED)
                raise PermissionDenied("The challenge was not passed")
            reactivate_for_known_device(request, password)
        if isinstance(username, str) and "\x00" in username:
            # No account can have a NUL in its name, and PostgreSQL refuses the
            # lookup with an exception: count it as a failure, check nothing.
            raise PermissionDenied("A username with a NUL character")

    async def aauthenticate(self, request, username=None, password=None, **kwargs):
        return await sync_to_async(self.authenticate)(
            request, username=username, password=password, **kwargs
        )

    def get_user(self, user_id):
        """The user the next backend that knows users gives for `user_id`
        (`ModelBackend`: an active account), None if none does."""
        for backend in self._user_backends():
            user = backend.get_user(user_id)
            if user is not None:
                return user
        return None

    async def aget_user(self, user_id):
        for backend in self._user_backends():
            if hasattr(backend, "aget_user"):
                user = await backend.aget_user(user_id)
            else:
                user = await sync_to_async(backend.get_user)(user_id)
            if user is not None:
                return user
        return None

    def _user_backends(self):
        for path in settings.AUTHENTICATION_BACKENDS:
            backend = load_backend(path)
            if not isinstance(backend, LoginLimitBackend) and hasattr(
                backend, "get_user"
            ):
                yield backend
