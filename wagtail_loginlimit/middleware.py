"""Gives back login tries that ended without an outcome.

Before a password is checked, the handler reserves one of the client's tries, so
that a burst of parallel requests cannot all slip past the limit. A failure or a
`login()` settles the reservation; code that calls `authenticate()` alone (API
authentication, for instance) does neither, so this middleware gives the try back
when the response leaves. Place it after `AuthenticationMiddleware`. It costs no
query on requests that did not try a password.
"""

from __future__ import annotations

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async

from .handler import release_unresolved_try


class LoginLimitMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.async_mode = iscoroutinefunction(get_response)
        if self.async_mode:
            markcoroutinefunction(self)

    def __call__(self, request):
        if self.async_mode:
            return self.__acall__(request)
        try:
            return self.get_response(request)
        finally:
            release_unresolved_try(request)

    def process_exception(self, request, exception):
        """A login refused because the store is down must not become a 500 when
        the rest of the page needs the same unreachable database."""
        from .unavailable import response_for_exception

        return response_for_exception(request, exception)

    async def __acall__(self, request):
        try:
            return await self.get_response(request)
        finally:
            if getattr(request, "loginlimit_reserved", None):
                await sync_to_async(release_unresolved_try)(request)
