"""What a store error is, and the one log line that says what it did to a login.

`WAGTAIL_LOGINLIMIT["on_store_error"]` chooses what a login gets while the store
cannot be reached (`decision` applies it): `"refuse"` (the default, HTTP 503),
since a login that cannot be counted cannot be limited either, or `"allow"`
(the login goes on, unprotected). Either way the log gets one ERROR line,
without a traceback, on the logger `wagtail_loginlimit.store`.
"""

from __future__ import annotations

import logging

from django.db import InterfaceError, OperationalError

logger = logging.getLogger("wagtail_loginlimit.store")

# Errors that mean "the database cannot be reached", not a bug.
DATABASE_DOWN = (OperationalError, InterfaceError)

_MAX_ERROR_TEXT = 300


class StoreUnavailable(Exception):
    """The store could not be reached (server down, connection refused or lost,
    timeout). Carries the store's name and the original error as `__cause__`."""

    def __init__(self, store: str, error: BaseException) -> None:
        self.store = store
        self.error = error
        super().__init__(f"{store}: {type(error).__name__}: {error}")


def describe(error: BaseException) -> str:
    """The error on one line: drivers' messages span lines ("Is the server
    running…?"), and a log line must stay one line."""
    cause = getattr(error, "error", None) or error
    text = " ".join(str(cause).split()) or type(cause).__name__
    text = "".join(char if char.isprintable() else "?" for char in text)
    if len(text) > _MAX_ERROR_TEXT:
        text = text[: _MAX_ERROR_TEXT - 1] + "…"
    return f"{type(cause).__name__}: {text}"


def log_store_error(store: str, error: BaseException, consequence: str) -> None:
    """One ERROR line naming the store, the error and what it did to the login."""
    logger.error(
        "Login limits: the %s store cannot be reached (%s); %s.",
        store,
        describe(error),
        consequence,
    )
