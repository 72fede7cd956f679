"""One decision for every attempt: may this client try a secret now?

Every entry point asks `decide()`: axes' backend before a password is checked,
the early refusal of `LoginLimitMiddleware`, axes' `is_locked()`, and any other
door into the site. It weighs the configuration, the lists, the client's
counters and the store-down policy (`on_store_error`) the same way for all of
them, and returns a `Decision`.

What a request was judged lives in one `AttemptRecord` on the request
(`request.loginlimit`, like `request.user`): the decision the page shows, the
try reserved for it, the store error met, the refusal response. The form, the
responses and the middleware read it; nothing else of this plugin is set on a
request (axes' own `axes_*` attributes are axes').
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.utils import timezone

from . import (
    clients,
    known_devices,
    networks,
    policy,
    request_context,
    security_log,
    storage,
)
from .clients import (
    LOGIN_ENTRY,
    SCOPE_DEVICE,
    SCOPE_IP,
    ClientIdentity,
    CounterKey,
    EntryPoint,
    counter_keys,
)
from .code_settings import code_value
from .conf import Config, get_config
from .users import account_key

RECORD_ATTR = "loginlimit"

# Why a decision was made. Refused:
LOCKED = policy.LOCKED  # locked out (HTTP 429)
BUSY = policy.BUSY  # every try left is being checked by another request (429)
DELAYED = policy.DELAYED  # too soon after the client's last failure (429)
BLACKLISTED = "blacklisted"  # the address is on the blacklist (403)
OUTSIDE_WHITELIST = "outside_whitelist"  # `whitelist_only`, and the address is
# not on the whitelist (403)
UNAVAILABLE = "unavailable"  # the store cannot be reached (503)
# Allowed:
ALLOWED = policy.ALLOWED  # counted: a failure will count against the client
EXEMPT = "exempt"  # not counted: the plugin is off, the client whitelisted, or
# nothing to count (no username for a method that counts usernames)
UNPROTECTED = "unprotected"  # not counted: the store is down and
# `on_store_error = "allow"`
UNDECIDED = "undecided"  # an early, read-only look could not tell: the check
# before the password decides

_ALLOWED = frozenset({ALLOWED, EXEMPT, UNPROTECTED, UNDECIDED})
_OPEN = policy.Verdict(policy.ALLOWED, 0)
_SHUT = policy.Verdict(policy.LOCKED, 0)


@dataclass(frozen=True)
class Decision:
    """The answer for one attempt, and what the login page tells the person."""

    reason: str
    now: datetime
    client: ClientIdentity | None = None
    keys: tuple[CounterKey, ...] = ()
    verdict: policy.Verdict = _OPEN
    config: Config | None = None
    entry_point: EntryPoint = LOGIN_ENTRY
    # The rules this attempt is counted by (`config.limits` unless the entry
    # point has its own).
    limits: policy.Limits | None = None
    # The account's known device the attempt comes from (`known_devices`).
    device: Any = None

    @property
    def allowed(self) -> bool:
        return self.reason in _ALLOWED

    @property
    def refused(self) -> bool:
        return not self.allowed

    @property
    def counted(self) -> bool:
        """Whether a failure of this attempt counts against the client."""
        return self.reason == ALLOWED

    @property
    def blacklisted(self) -> bool:
        return self.reason == BLACKLISTED

    @property
    def forbidden(self) -> bool:
        """Refused whatever the count (HTTP 403): blacklisted, or outside the
        whitelist under `whitelist_only`. Waiting does not help."""
        return self.reason in (BLACKLISTED, OUTSIDE_WHITELIST)

    @property
    def unavailable(self) -> bool:
        return self.reason == UNAVAILABLE

    @property
    def busy(self) -> bool:
        return self.reason == BUSY

    @property
    def delayed(self) -> bool:
        """Refused for a few seconds by the progressive delay, not locked out."""
        return self.reason == DELAYED

    @property
    def wait_seconds(self) -> int | None:
        """After a failure that left the client allowed: whole seconds before
        its next try may come (the progressive delay); None: at once."""
        until = self.verdict.wait_until
        if until is None or until <= self.now:
            return None
        return policy.Verdict(DELAYED, 0, until).retry_after(self.now)

    @property
    def tries_left(self) -> int:
        return self.verdict.tries_left

    @property
    def locked_until(self) -> datetime | None:
        return self.verdict.locked_until

    @property
    def is_long(self) -> bool:
        return self.verdict.is_long

    @property
    def retry_after(self) -> int | None:
        """Seconds until the client may try again (`Retry-After`); None when
        waiting does not help (blacklisted) or is not known (store down)."""
        if self.forbidden or self.unavailable or self.allowed:
            return None
        return self.verdict.retry_after(self.now)

    def with_verdict(self, verdict: policy.Verdict) -> Decision:
        """The same attempt after a failure changed its count."""
        reason = ALLOWED if verdict.allowed else verdict.status
        return replace(self, reason=reason, verdict=verdict)

    @property
    def rules(self) -> policy.Limits | None:
        """The limits its counters follow."""
        if self.limits is not None:
            return self.limits
        return self.config.limits if self.config is not None else None


def refused_by_something_else(now: datetime | None = None) -> Decision:
    """For a request that axes' middleware flags as locked out without this
    plugin having judged it."""
    return Decision(LOCKED, now or timezone.now(), verdict=_SHUT)


@dataclass
class AttemptRecord:
    """What this plugin judged a request: one per request, `request.loginlimit`."""

    # What the page shows: the last decision, or the outcome of a failure.
    decision: Decision | None = None
    # A try reserved before a password check and not settled yet: given back
    # when the response leaves unless a failure or a login settles it.
    reserved: Decision | None = None
    # The store failed during this request: the decision it led to. The rest
    # of the request leaves the store alone (one log line per request).
    store_down: Decision | None = None
    # The refusal page, made once (axes' middleware asks again).
    response: Any = None
    # Extra state other entry points keep per request, by name.
    extra: dict[str, Any] = field(default_factory=dict)
    # Tries reserved by entry points other than the login (`api.check`), by
    # entry point name; settled or given back like `reserved`.
    reserved_by_entry: dict[str, Decision] = field(default_factory=dict)
    # A POST to a login view (`LoginLimitMiddleware`): the challenge is
    # enforced for it (`challenge`).
    via_login_view: bool = False
    # "passed" the challenge, or "refused" for want of it (nothing counted).
    challenge: str | None = None


def django_request(request: Any) -> HttpRequest | Any:
    """The `HttpRequest` behind a wrapper (Django REST framework's `Request`
    passes itself to `authenticate()`): the record must live on the request
    the middleware sees, or a reserved try is never given back."""
    inner = getattr(request, "_request", None)
    while isinstance(inner, HttpRequest):
        request, inner = inner, getattr(inner, "_request", None)
    return request


def record_of(request: Any) -> AttemptRecord | None:
    """The request's record, if this plugin judged it."""
    if request is None:
        return None
    return getattr(django_request(request), RECORD_ATTR, None)


def ensure_record(request: Any) -> AttemptRecord:
    request = django_request(request)
    record = getattr(request, RECORD_ATTR, None)
    if record is None:
        record = AttemptRecord()
        setattr(request, RECORD_ATTR, record)
    return record


def status_of(request: Any) -> Decision | None:
    """What the login page should say for `request` (None: nothing judged)."""
    record = record_of(request)
    return record.decision if record else None


ip_address_of = request_context.client_address


def identity(
    request: Any,
    username: str | None,
    config: Config,
    entry_point: EntryPoint = LOGIN_ENTRY,
) -> ClientIdentity:
    """Who the attempt is. A login's typed name is counted under its account's
    key (`identify_account`), so an email address and a username of one
    account share one count; other entry points' keys (an address, a page's
    restriction) are counted as given."""
    if entry_point.is_login:
        username = account_key(username, request, config.identify_account)
    return ClientIdentity.build(
        ip_address_of(request), username, config.ipv6_prefix, config.ipv4_prefix
    )


def keys_for(
    client: ClientIdentity,
    config: Config,
    entry_point: EntryPoint | None = None,
    device: Any = None,
) -> tuple[CounterKey, ...]:
    """The counters the attempt counts under; scopes that count a username are
    left out when no username was given (there is nothing to count them by).

    A login naming a whitelisted username is counted by its IP instead of by
    the name alone: the owner can never be locked out by name, and a guesser
    still runs into the limit of its own address.

    A login from one of the account's known `device`s is counted by that
    device alone, under every method (Entra's "familiar locations"): what
    strangers do to the name, the address or the network never locks it out,
    and it can lock only itself out. Only a browser that signed in to that
    account (or opened its emailed sign-in link) holds such a device, so it
    buys a guesser nothing: one device has one client's tries."""
    method = config.lockout_method
    login = entry_point is None or entry_point.is_login
    if login and config.whitelist.has_username(client.username):
        method = clients.method_sparing_username(method)
    keys = counter_keys(client, method, entry_point)
    if not client.username:
        keys = [key for key in keys if key.scope == SCOPE_IP]
    if login and device is not None and client.username:
        return (device_key(client, device),)
    return tuple(keys)


def account_budget_key(client: ClientIdentity) -> CounterKey:
    """The count of failures against the client's account from unknown
    devices, under every lockout method (`account_budget`): it never locks
    anyone out; past the budget it makes strangers pass the challenge."""
    return CounterKey(
        scope=clients.SCOPE_USERNAME,
        ip_group=None,
        username=client.username,
        entry_point=clients.ACCOUNT_BUDGET,
    )


def device_key(client: ClientIdentity, device: Any) -> CounterKey:
    """The counter of one known device of the client's account."""
    return CounterKey(scope=SCOPE_DEVICE, ip_group=device.tag, username=client.username)


def known_device(request: Any, client: ClientIdentity) -> Any:
    """The account's known device `request` comes from (None: a stranger),
    looked up once per request and account. A database that cannot answer
    makes the device a stranger; the rest of the decision says what the
    store's state means."""
    if not client.username or request is None:
        return None
    record = ensure_record(request)
    found = record.extra.setdefault("known_devices", {})
    if client.raw_username not in found:
        try:
            found[client.raw_username] = known_devices.find(
                django_request(request), client.raw_username
            )
        except storage.DATABASE_DOWN:
            found[client.raw_username] = None
    return found[client.raw_username]


def is_trusted(client: ClientIdentity, config: Config) -> bool:
    """Whether the client's address is on the whitelist: a trusted network,
    never counted at any entry point. (A whitelisted *username* is only
    spared lockouts by name and deactivation; see `keys_for`.)"""
    return config.whitelist.has_ip(client.ip_address)


def ip_key(client: ClientIdentity) -> CounterKey:
    """The login counter of the client's own IP (or IPv6 network), the one
    lockout method `ip` counts under."""
    return CounterKey(scope=SCOPE_IP, ip_group=client.ip_group, username=None)


def ip_guard_keys(
    client: ClientIdentity, config: Config, keys: tuple[CounterKey, ...]
) -> tuple[CounterKey, ...]:
    """Under a lockout method that does not count by IP (`username`,
    `ip_and_username`), the client's IP counter is still read while
    `deny_usernames` is set: only a try with a denied username counts there
    (see `denied`), and a lockout on it refuses the client whatever name it
    types next. Without denied names nothing counts there, and nothing is
    read."""
    if not config.deny_usernames or not client.ip_group:
        return ()
    if any(key.scope == SCOPE_IP for key in keys):
        return ()
    return (ip_key(client),)


def network_keys(client: ClientIdentity, config: Config) -> tuple[CounterKey, ...]:
    """The counter of the client's network, counted besides the client's own
    under every lockout method (none when `network_retries` is 0)."""
    key = networks.network_key(
        client,
        network_retries=config.network_retries,
        ipv4_network_prefix=config.ipv4_network_prefix,
        ipv6_network_prefix=config.ipv6_network_prefix,
    )
    return () if key is None else (key,)


def decide(
    request: Any,
    username: str | None,
    *,
    reserve: bool,
    early: bool = False,
    entry_point: EntryPoint = LOGIN_ENTRY,
    limits: policy.Limits | None = None,
) -> Decision:
    """May the client of `request`, naming `username`, try a secret now?

    `reserve=True` (just before the secret is checked) reserves one of the
    client's tries, so parallel requests cannot all slip past the limit; the
    try is settled by `outcomes.record_failure` or `record_success`, or given
    back when the response leaves. `reserve=False` only reads.

    `early=True`: a cheap look before the view runs. Whatever it cannot tell
    (the store is down) is `UNDECIDED`, left to the check before the password,
    which knows how to answer it.

    `entry_point` names the door (the login unless said otherwise): its
    counters live in their own namespace, counted by what it counts by and,
    given `limits`, by its own limits instead of the configured ones."""
    record = record_of(request)
    login = entry_point.is_login
    if record is not None and record.store_down is not None:
        return record.store_down
    now = timezone.now()
    try:
        config = get_config(request)  # may read the Wagtail setting
    except storage.DATABASE_DOWN as error:
        return _store_down(request, "database", error, now, early)
    if not config.enabled:
        return Decision(EXEMPT, now, config=config, entry_point=entry_point)
    client = identity(request, username, config, entry_point)
    door = {"entry_point": entry_point, "limits": limits, "config": config}
    if config.blacklist.has_ip(client.ip_address):
        return Decision(BLACKLISTED, now, client, verdict=_SHUT, **door)
    if config.whitelist_only and not is_trusted(client, config):
        return Decision(OUTSIDE_WHITELIST, now, client, verdict=_SHUT, **door)
    if login:
        door["device"] = known_device(request, client)
    keys = keys_for(client, config, entry_point, door.get("device"))
    whitelisted = is_trusted(client, config)
    if whitelisted or not keys:
        decision = Decision(EXEMPT, now, client, keys, **door)
        if reserve and login:
            ensure_record(request).decision = decision
        return decision
    # A known device is counted by its own counter alone (`keys_for`).
    stranger = login and door.get("device") is None
    if stranger:
        keys = (*keys, *network_keys(client, config))
    rules = limits or config.limits
    guard = ip_guard_keys(client, config, keys) if stranger else ()
    try:
        held = storage.peek(list(guard), now, rules) if guard else None
        if held is not None and held.status == policy.LOCKED:
            verdict = held  # a denied username's lockout of the IP
        elif reserve:
            verdict = storage.begin_attempt(list(keys), now, rules)
        else:
            verdict = storage.peek(list(keys), now, rules)
    except storage.StoreUnavailable as error:
        return _store_down(request, error.store, error, now, early, client, config)
    decision = Decision(verdict.status, now, client, keys, verdict, **door)
    if reserve:
        record = ensure_record(request)
        record.decision = decision
        if decision.allowed:
            if login:
                record.reserved = decision
            else:
                record.reserved_by_entry[entry_point.name] = decision
    return decision


def _store_down(
    request: Any,
    store: str,
    error: BaseException,
    now: datetime,
    early: bool,
    client: ClientIdentity | None = None,
    config: Config | None = None,
) -> Decision:
    """The store cannot be reached: refuse (503) or let the attempt go on
    unprotected, as `on_store_error` says. Logged once per request."""
    if early:
        return Decision(UNDECIDED, now, client, config=config)
    if code_value("on_store_error") == "refuse":
        storage.log_store_error(store, error, "login refused")
        decision = Decision(UNAVAILABLE, now, client, verdict=_SHUT, config=config)
    else:
        storage.log_store_error(store, error, "login allowed without limits")
        decision = Decision(UNPROTECTED, now, client, config=config)
    record = ensure_record(request)
    record.store_down = record.decision = decision
    return decision


def mark_locked_out(request: Any) -> None:
    """Set axes' flag, which its middleware reads to answer with the refusal
    page, on `request` and on the Django request behind a wrapper (axes'
    middleware sees only that one)."""
    request.axes_locked_out = True
    if request is not django_request(request):
        django_request(request).axes_locked_out = True


def refuse(request: Any, decision: Decision) -> None:
    """Mark `request` as refused by `decision`: axes' middleware then answers it
    with the lockout (or 503) page. Refused tries are neither counted nor logged
    as failures, and fire no event: the lockout was announced when it began."""
    mark_locked_out(request)
    ensure_record(request).decision = decision
    if decision.client is not None and not decision.unavailable:
        security_log.log_refused(
            decision.client,
            "blacklist" if decision.blacklisted else decision.reason,
            decision.entry_point.name,
        )
