"""The authentication backend: django-axes' standalone backend, made safe on the
async path.

django-axes 8.3's `AxesBackend` inherits `aauthenticate()` from `ModelBackend`,
which checks the password without asking axes first: under `aauthenticate()` a
locked-out user with the right password gets in. This backend runs the same
lockout check on both paths and leaves password checking to the backends after it.
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from axes.backends import AxesStandaloneBackend
from django.core.exceptions import PermissionDenied


class LoginLimitBackend(AxesStandaloneBackend):
    """Put first in `AUTHENTICATION_BACKENDS`; it never logs anyone in itself."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        super().authenticate(request, username=username, password=password, **kwargs)
        if isinstance(username, str) and "\x00" in username:
            # No account can have a NUL in its name, and PostgreSQL refuses the
            # lookup with an exception: count it as a failure, check nothing.
            raise PermissionDenied("A username with a NUL character")

    async def aauthenticate(self, request, username=None, password=None, **kwargs):
        return await sync_to_async(self.authenticate)(
            request, username=username, password=password, **kwargs
        )
