"""The request being handled, for code that Django or Wagtail call without one.

Wagtail builds the settings form without the request (`for_user` only), yet
turning `whitelist_only` on must be refused from an address it would shut out.
`LoginLimitMiddleware` keeps the request in a context variable for the length
of each request (a `ContextVar`, so threads and async tasks each see their
own); outside a request (the shell, a migration) there is none.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_current: ContextVar[Any] = ContextVar("wagtail_loginlimit_request", default=None)


@contextmanager
def handling(request: Any):
    """Make `request` the current one while the block runs."""
    token = _current.set(request)
    try:
        yield
    finally:
        _current.reset(token)


def current_request() -> Any:
    """The request being handled, or None outside a request."""
    return _current.get()


def client_address(request: Any) -> str | None:
    """The client's address as django-axes sees it (axes' own setting for
    proxies decides whether `X-Forwarded-For` is trusted)."""
    # Imported here: the models import this module, and the system checks
    # must load them (and say E002) when axes is not installed.
    from axes.helpers import get_client_ip_address

    address = getattr(request, "axes_ip_address", None)
    if address is None and request is not None:
        try:
            address = get_client_ip_address(request)
        except Exception:  # a hostile header must not become a 500
            address = None
    return address or None
