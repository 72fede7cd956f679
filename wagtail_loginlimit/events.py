"""Events for other plugins: Wagtail hooks and Django signals with one payload.

    from wagtail import hooks

from .users import find_user

    @hooks.register("loginlimit_block")
    def on_block(event):
        ...

A hook or receiver that raises is logged and never breaks a login.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.dispatch import Signal
from wagtail import hooks

from .clients import LOGIN, SCOPE_NETWORK
from .users import find_user

logger = logging.getLogger(__name__)

INSERT = "insert"
BLOCK = "block"
RESET = "reset"
DEACTIVATE = "deactivate"
REACTIVATE = "reactivate"
ATTACK = "attack"  # attack mode began (reason "started") or ended ("ended")
KINDS = (INSERT, BLOCK, RESET, DEACTIVATE, REACTIVATE, ATTACK)

# The reason a reset after a successful login gives. An unlock gives the
# `Lockout.LIFTED_*` value that also records why a lockout was lifted.
REASON_LOGIN = "login"

# One Django signal per kind; each is sent with `event=LoginLimitEvent(...)`.
loginlimit_insert = Signal()
loginlimit_block = Signal()
loginlimit_reset = Signal()
loginlimit_deactivate = Signal()
loginlimit_reactivate = Signal()
loginlimit_attack = Signal()
SIGNALS = {
    INSERT: loginlimit_insert,
    BLOCK: loginlimit_block,
    RESET: loginlimit_reset,
    DEACTIVATE: loginlimit_deactivate,
    REACTIVATE: loginlimit_reactivate,
    ATTACK: loginlimit_attack,
}

_UNSET: Any = object()


@dataclass
class LoginLimitEvent:
    """What happened, to whom, and the counts after it."""

    kind: str
    ip_address: str | None = None
    username: str | None = None
    failure_count: int = 0
    lockout_count: int = 0
    locked_until: datetime | None = None
    long: bool = False
    reason: str = ""
    request: Any = None
    lockout: Any = None  # the `Lockout` record, for block and unlock events
    by: Any = None  # the admin who unlocked or reactivated; None if automatic
    # The door it happened at: "login", "page_password", "password_reset"…
    # (docs/entry-points.md), or the name a plugin gave `api.check()`.
    entry_point: str = LOGIN
    # The network locked out or unlocked (`network_retries`), with the
    # reason or scope "network"; None for any other event.
    network: str | None = None
    _user: Any = field(default=_UNSET, repr=False)

    @classmethod
    def for_lockout(
        cls,
        kind: str,
        lockout: Any,
        *,
        reason: str,
        request: Any = None,
        ip_address: str | None = None,
        username: str | None = None,
        by: Any = None,
    ) -> LoginLimitEvent:
        """An event about one `Lockout` record (it began, or it was lifted).
        The address and name default to the record's own."""
        return cls(
            kind=kind,
            ip_address=ip_address or lockout.ip_address,
            username=username or lockout.username or None,
            failure_count=lockout.failure_count,
            lockout_count=lockout.number,
            locked_until=lockout.ends_at,
            long=lockout.is_long,
            reason=reason,
            request=request,
            lockout=lockout,
            by=by,
            entry_point=getattr(lockout, "entry_point", "") or LOGIN,
            network=(
                lockout.ip_group
                if getattr(lockout, "scope", "") == SCOPE_NETWORK
                else None
            ),
        )

    @property
    def hook_name(self) -> str:
        return f"loginlimit_{self.kind}"

    @property
    def user(self):
        """The account of `username`, or None; looked up only when asked for."""
        if self._user is _UNSET:
            self._user = None
            if self.username:
                self._user = find_user(self.username)
        return self._user

    @user.setter
    def user(self, value) -> None:
        self._user = value


def emit(event: LoginLimitEvent) -> None:
    """Call every hook and signal receiver of the event's kind, logging failures."""
    for fn in hooks.get_hooks(event.hook_name):
        try:
            fn(event)
        except Exception:
            logger.exception(
                "The %s hook %s raised; the login goes on.",
                event.hook_name,
                getattr(fn, "__qualname__", fn),
            )
    signal = SIGNALS[event.kind]
    for receiver, response in signal.send_robust(sender=LoginLimitEvent, event=event):
        if isinstance(response, Exception):
            logger.error(
                "The %s signal receiver %s raised; the login goes on.",
                event.hook_name,
                getattr(receiver, "__qualname__", receiver),
                exc_info=response,
            )


# --- many events about one change ---

_batch = threading.local()


@contextmanager
def batch() -> Iterator[None]:
    """Events fired within it belong to one change (a bulk unlock fires one per
    lockout): receivers that need to act once per change rather than once per
    event ask `once_after_batch()` to defer their work to its end."""
    depth = getattr(_batch, "depth", 0)
    if not depth:
        _batch.pending = {}
    _batch.depth = depth + 1
    try:
        yield
    finally:
        _batch.depth = depth
        if not depth:
            pending, _batch.pending = _batch.pending, {}
            for func in pending.values():
                func()


def once_after_batch(func: Callable[[], None]) -> bool:
    """Inside `batch()`: run `func` once when the batch ends (however often it
    is asked for) and return True. Outside one: False, and nothing is run."""
    if not getattr(_batch, "depth", 0):
        return False
    _batch.pending.setdefault(func, func)
    return True
