"""Telling operators about lockouts, as `lockout_notify` says: a log warning per
lockout (`log`)."""

from __future__ import annotations

from . import security_log
from .clients import Client
from .conf import Config
from .models import Lockout


def notify_lockout(lockout: Lockout, client: Client, config: Config, request=None) -> None:
    """Called once for every lockout that begins."""
    if "log" in config.lockout_notify:
        security_log.log_lockout(
            client, lockout.scope, lockout.ends_at, lockout.is_long, lockout.failure_count
        )
