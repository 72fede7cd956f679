"""The django-axes handler (`AXES_HANDLER`) that applies this plugin's policy.

Axes keeps doing what it does: its backend asks `is_allowed()` before any password
is checked, its signal receivers call `user_login_failed()` / `user_logged_in()`,
its failure and access logs record the attempts. This handler replaces axes'
counting (one row per username/IP/user agent, a flat failure limit) with the
rules of `policy`, stored in `storage`.
"""

from __future__ import annotations

import logging
from typing import Any

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessFailureLog
from axes.signals import user_locked_out
from django.db import DatabaseError
from django.utils import timezone

from . import accounts, events, notifications, policy, security_log, storage
from .clients import METHOD_IP, Client, counter_keys
from .conf import Config, code_value, get_config
from .unavailable import REFUSE, log_store_error

logger = logging.getLogger(__name__)

# Request attributes this handler sets (axes' own `axes_*` ones are set by axes).
STATUS_ATTR = "loginlimit_status"


class LoginStatus:
    """What the login page and the lockout response tell the person."""

    def __init__(
        self,
        verdict: policy.Verdict,
        now,
        *,
        blacklisted: bool = False,
        unavailable: bool = False,
    ):
        self.verdict = verdict
        self.now = now
        self.blacklisted = blacklisted
        # Refused because the store could not be reached (HTTP 503).
        self.unavailable = unavailable

    @property
    def refused(self) -> bool:
        return self.blacklisted or self.unavailable or not self.verdict.allowed

    @property
    def tries_left(self) -> int:
        return self.verdict.tries_left

    @property
    def locked_until(self):
        return self.verdict.locked_until

    @property
    def is_long(self) -> bool:
        return self.verdict.is_long

    @property
    def retry_after(self) -> int | None:
        if self.blacklisted or self.unavailable:
            return None
        return self.verdict.retry_after(self.now)


def _client(request, credentials: dict | None, config: Config) -> Client:
    try:
        username = get_client_username(request, credentials)
    except Exception:  # a hostile POST body must not turn into a 500
        username = None
    if username is not None and not isinstance(username, str):
        username = str(username)
    return Client.build(
        getattr(request, "axes_ip_address", None), username, config.ipv6_prefix
    )


class LoginLimitHandler(AxesDatabaseHandler):
    # --- decisions, asked by axes' backend before the password is checked ---

    def is_allowed(self, request, credentials: dict | None = None) -> bool:
        try:
            config = get_config(request)  # may read the Wagtail setting
        except storage.DATABASE_DOWN as error:
            return self._store_down(request, "database", error)
        if not config.enabled:
            return True
        client = _client(request, credentials, config)
        now = timezone.now()
        if config.blacklist.has_ip(client.ip_address):
            self._refuse(
                request, client, LoginStatus(_blocked(), now, blacklisted=True)
            )
            return False
        if self._is_whitelisted(client, config):
            request.loginlimit_whitelisted = True
            return True
        keys = counter_keys(client, config.lockout_method)
        try:
            verdict = storage.begin_attempt(keys, now, config.limits)
        except storage.StoreUnavailable as error:
            return self._store_down(request, error.store, error)
        if not verdict.allowed:
            self._refuse(request, client, LoginStatus(verdict, now))
            return False
        # Given back by LoginLimitMiddleware if neither a failure nor login()
        # resolves it (e.g. API authentication with authenticate() alone).
        request.loginlimit_reserved = (keys, config.limits)
        return True

    def refuses_early(self, request) -> bool:
        """Whether a login POST is refused before the login view runs (by
        `LoginLimitMiddleware`), so a locked-out client costs no form and no
        login page. Only a read: the view's own `is_allowed()` still reserves
        the try of a client that is let through. Anything uncertain (the store
        is down, no username for a method that needs one) is left to that
        check, which knows how to answer it."""
        try:
            config = get_config(request)
            if not config.enabled:
                return False
            client = _client(request, None, config)
            now = timezone.now()
            if config.blacklist.has_ip(client.ip_address):
                status = LoginStatus(_blocked(), now, blacklisted=True)
            elif self._is_whitelisted(client, config) or (
                not client.username and config.lockout_method != METHOD_IP
            ):
                return False
            else:
                keys = counter_keys(client, config.lockout_method)
                verdict = storage.peek(keys, now, config.limits)
                if verdict.allowed:
                    return False
                status = LoginStatus(verdict, now)
        except (storage.StoreUnavailable, *storage.DATABASE_DOWN):
            return False
        self._refuse(request, client, status)
        return True

    def is_locked(self, request, credentials: dict | None = None) -> bool:
        try:
            config = get_config(request)
            if not config.enabled:
                return False
            client = _client(request, credentials, config)
            if config.blacklist.has_ip(client.ip_address):
                return True
            if self._is_whitelisted(client, config):
                return False
            keys = counter_keys(client, config.lockout_method)
            return not storage.peek(keys, timezone.now(), config.limits).allowed
        except (storage.StoreUnavailable, *storage.DATABASE_DOWN) as error:
            refuse = code_value("on_store_error") == REFUSE
            log_store_error(
                getattr(error, "store", "database"),
                error,
                "treated as locked" if refuse else "treated as not locked",
            )
            return refuse

    def get_failures(self, request, credentials: dict | None = None) -> int:
        config = get_config(request)
        client = _client(request, credentials, config)
        keys = counter_keys(client, config.lockout_method)
        try:
            verdict = storage.peek(keys, timezone.now(), config.limits)
        except storage.StoreUnavailable as error:
            log_store_error(error.store, error, "failures reported as 0")
            return 0
        return config.allowed_retries - verdict.tries_left

    def is_blacklisted(self, request, credentials: dict | None = None) -> bool:
        config = get_config(request)
        client = _client(request, credentials, config)
        return config.enabled and config.blacklist.has_ip(client.ip_address)

    def is_whitelisted(self, request, credentials: dict | None = None) -> bool:
        config = get_config(request)
        client = _client(request, credentials, config)
        return not config.enabled or self._is_whitelisted(client, config)

    @staticmethod
    def _is_whitelisted(client: Client, config: Config) -> bool:
        return config.whitelist.has_ip(client.ip_address) or (
            config.whitelist.has_username(client.username)
        )

    @staticmethod
    def _store_down(request, store: str, error: BaseException) -> bool:
        """The store cannot be reached: refuse the login (HTTP 503) or let it go
        on unprotected, as `on_store_error` says. Logged once per request; the
        rest of this request leaves the store alone."""
        request.loginlimit_store_down = True
        if code_value("on_store_error") != REFUSE:
            log_store_error(store, error, "login allowed without limits")
            return True
        log_store_error(store, error, "login refused")
        request.axes_locked_out = True
        request.loginlimit_refused = True
        status = LoginStatus(_blocked(), timezone.now(), unavailable=True)
        setattr(request, STATUS_ATTR, status)
        return False

    @staticmethod
    def _refuse(request, client: Client, status: LoginStatus) -> None:
        # Axes' middleware flag; refused tries are neither counted nor logged as
        # failures, and fire no event: the lockout was announced when it began.
        request.axes_locked_out = True
        request.loginlimit_refused = True
        setattr(request, STATUS_ATTR, status)
        security_log.log_refused(
            client, "blacklist" if status.blacklisted else status.verdict.status
        )

    # --- outcomes, from Django's auth signals via axes' receivers ---

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        if request is None:
            logger.warning(
                "A failed login without a request cannot be counted: pass `request` "
                "to authenticate()."
            )
            return
        if getattr(request, "loginlimit_refused", False):
            request.axes_credentials = credentials
            return
        config = get_config(request)
        if not config.enabled:
            return
        client = _client(request, credentials, config)
        now = timezone.now()
        if getattr(request, "loginlimit_whitelisted", False) or self._is_whitelisted(
            client, config
        ):
            self._write_failure_log(request, client, locked_out=False)
            return
        if getattr(request, "loginlimit_store_down", False):
            # Allowed unprotected (`on_store_error = "allow"`): nothing to count.
            self._write_failure_log(request, client, locked_out=False)
            return
        keys = counter_keys(client, config.lockout_method)
        try:
            result = storage.record_failure(keys, client, now, config.limits)
        except storage.StoreUnavailable as error:
            # The store went away between the check and the password: the
            # reserved try lapses by itself (policy.PENDING_TTL).
            request.loginlimit_reserved = None
            log_store_error(error.store, error, "failed login not counted")
            self._write_failure_log(request, client, locked_out=False)
            return
        request.loginlimit_reserved = None
        security_log.log_failure(client, result.failures, result.tries_left)

        if result.lockouts:
            ends = max(lockout.ends_at for lockout in result.lockouts)
            is_long = any(lockout.is_long for lockout in result.lockouts)
            verdict = policy.Verdict(policy.LOCKED, 0, ends, is_long)
            request.axes_locked_out = True
            request.axes_credentials = credentials
        else:
            verdict = policy.Verdict(policy.ALLOWED, result.tries_left)
        setattr(request, STATUS_ATTR, LoginStatus(verdict, now))
        self._write_failure_log(request, client, locked_out=bool(result.lockouts))

        events.emit(
            events.LoginLimitEvent(
                kind=events.INSERT,
                ip_address=client.ip_address,
                username=client.raw_username,
                failure_count=result.failures,
                lockout_count=policy.lockout_count(result.failures, config.limits),
                request=request,
            )
        )
        for lockout in result.lockouts:
            notifications.notify_lockout(lockout, client, config, request)
            user_locked_out.send(
                "axes",
                request=request,
                username=client.raw_username,
                ip_address=client.ip_address,
            )
            events.emit(
                events.LoginLimitEvent.for_lockout(
                    events.BLOCK,
                    lockout,
                    reason=lockout.scope,
                    request=request,
                    ip_address=client.ip_address,
                    username=client.raw_username,
                )
            )
        # Per account, whatever the lockout method: may deactivate it.
        accounts.record_failure(client, config, request)

    def user_logged_in(self, sender, request, user, **kwargs):
        # Axes writes its access log; then the client's count starts afresh.
        super().user_logged_in(sender, request, user, **kwargs)
        config = get_config(request)
        if not config.enabled or getattr(request, "loginlimit_store_down", False):
            return
        client = Client.build(
            getattr(request, "axes_ip_address", None),
            user.get_username(),
            config.ipv6_prefix,
        )
        keys = counter_keys(client, config.lockout_method)
        request.loginlimit_reserved = None
        try:
            result = storage.reset(keys=keys, reason=events.REASON_LOGIN)
        except storage.StoreUnavailable as error:
            # The person is signed in either way; the count lapses on its own.
            log_store_error(error.store, error, "count not reset after a login")
            return
        now = timezone.now()
        for counter in result.counters:
            state = policy.refresh(storage.counter_state(counter), now, config.limits)
            if not state.failures:  # nothing counted, or already forgotten
                continue
            event = events.LoginLimitEvent(
                kind=events.RESET,
                ip_address=client.ip_address,
                username=client.raw_username,
                failure_count=counter.failures,
                reason=events.REASON_LOGIN,
                request=request,
            )
            event.user = user
            events.emit(event)

    # --- axes housekeeping that this policy replaces ---

    def clean_expired_user_attempts(self, request=None, credentials=None) -> int:
        # Axes deletes every attempt older than *this* request's cool-off, which
        # can end another client's longer lockout. Counters here expire one by one.
        return 0

    def reset_user_attempts(self, request, credentials=None) -> int:
        return 0

    def _write_failure_log(self, request, client: Client, *, locked_out: bool):
        try:
            AccessFailureLog.objects.create(
                username=client.raw_username,
                ip_address=client.ip_address,
                user_agent=getattr(request, "axes_user_agent", "")[:255],
                http_accept=getattr(request, "axes_http_accept", "")[:1025],
                path_info=getattr(request, "axes_path_info", "")[:255],
                attempt_time=getattr(request, "axes_attempt_time", None)
                or timezone.now(),
                locked_out=locked_out,
            )
        except DatabaseError:
            logger.exception("Could not write the failed login to axes' failure log.")


def _blocked() -> policy.Verdict:
    return policy.Verdict(policy.LOCKED, 0)


def release_unresolved_try(request: Any) -> None:
    """Give back the try `is_allowed()` reserved if the request ended without a
    failure or a login, so that authenticate()-only logins use up no tries."""
    reserved = getattr(request, "loginlimit_reserved", None)
    if not reserved:
        return
    request.loginlimit_reserved = None
    keys, limits = reserved
    try:
        storage.release(keys, timezone.now(), limits)
    except storage.StoreUnavailable as error:
        log_store_error(error.store, error, "a reserved try lapses on its own")
    except DatabaseError:
        logger.exception("Could not give back a reserved login try; it lapses soon.")


def status_for(request: Any) -> LoginStatus | None:
    """The status a login request ended with, if this handler judged it."""
    return getattr(request, STATUS_ATTR, None)
