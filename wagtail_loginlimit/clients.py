"""Who "the client" is: normalised IP, IPv6 network, username, and the counter keys
that each lockout method counts under."""

from __future__ import annotations

import hashlib
import ipaddress
import unicodedata
from dataclasses import dataclass

# Django's own username field is 150 characters; axes' columns hold 255. Longer
# input is kept distinguishable by a digest instead of crashing the insert.
MAX_USERNAME_LENGTH = 255
_DIGEST_LENGTH = 32

UNKNOWN_IP = "unknown"

METHOD_IP = "ip"
METHOD_USERNAME = "username"
METHOD_IP_AND_USERNAME = "ip_and_username"
METHOD_IP_OR_USERNAME = "ip_or_username"
METHODS = (METHOD_IP, METHOD_USERNAME, METHOD_IP_AND_USERNAME, METHOD_IP_OR_USERNAME)

# What one counter counts: the scopes a lockout method is made of.
SCOPE_IP = "ip"
SCOPE_USERNAME = "username"
SCOPE_PAIR = "ip_and_username"
# The network a client's address belongs to (`network_retries`): counted
# besides the client under every lockout method, keyed by the network's text.
SCOPE_NETWORK = "network"
# One known device of one account (`known_devices`): counted instead of the
# account's username, so that failures from elsewhere never lock it out. Keyed
# like a pair: the device's tag in the place of the IP group, the username.
SCOPE_DEVICE = "known_device"
SCOPES_BY_METHOD = {
    METHOD_IP: (SCOPE_IP,),
    METHOD_USERNAME: (SCOPE_USERNAME,),
    METHOD_IP_AND_USERNAME: (SCOPE_PAIR,),
    METHOD_IP_OR_USERNAME: (SCOPE_IP, SCOPE_USERNAME),
}


# What a whitelisted username is counted by instead of `lockout_method`: its
# failures still count against the address (a lockout by name would lock the
# owner out everywhere); the pair already stays with one address.
_SPARING_USERNAME = {
    METHOD_IP: METHOD_IP,
    METHOD_USERNAME: METHOD_IP,
    METHOD_IP_AND_USERNAME: METHOD_IP_AND_USERNAME,
    METHOD_IP_OR_USERNAME: METHOD_IP,
}


def method_sparing_username(method: str) -> str:
    """The lockout method for a whitelisted username: `method` without any
    lockout by the name alone."""
    return _SPARING_USERNAME[method]


# A username longer than this is nobody's (Django allows 150 characters) and is
# not Unicode-normalised: NFKC can grow text 18-fold, and normalising a
# megabyte-sized name costs seconds of CPU per request (Django's UsernameField
# skips it for the same reason). Such a name is kept distinct by a digest.
_NORMALIZE_LIMIT = 4 * MAX_USERNAME_LENGTH


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


def clip_text(value: str | None, limit: int = MAX_USERNAME_LENGTH) -> str | None:
    """Shorten `value` to `limit` characters, keeping long values distinct by a digest."""
    if value is None:
        return None
    value = value.replace("\x00", "\ufffd")
    if len(value) <= limit:
        return value
    return f"{value[: limit - _DIGEST_LENGTH - 1]}#{_digest(value)[:_DIGEST_LENGTH]}"


def _fold(text: str) -> str:
    # Casefolding can leave combining marks out of canonical order (`İ̖`), so
    # NFKC runs again after it: normalising twice gives the same result.
    folded = unicodedata.normalize("NFKC", text).casefold()
    return unicodedata.normalize("NFKC", folded).strip()


def normalize_username(username: str | None) -> str:
    """Usernames are counted case-insensitively and Unicode-normalised (NFKC), so
    `Admin`, `ADMIN` and `ａｄｍｉｎ` share one count. Look-alikes from other
    scripts (Cyrillic `а` for Latin `a`) stay distinct, as they are to Django.

    The result is stable: a name copied from a report and typed into an unlock
    form normalises to itself."""
    if username is None:
        return ""
    text = str(username)
    if len(text) > _NORMALIZE_LIMIT:
        head = _fold(text[:MAX_USERNAME_LENGTH])
        head = head[: MAX_USERNAME_LENGTH - _DIGEST_LENGTH - 1]
        return f"{head}#{_digest(text)[:_DIGEST_LENGTH]}".replace("\x00", "\ufffd")
    return clip_text(_fold(text)) or ""


def parse_ip(value: str | None) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """The address, with IPv4-mapped IPv6 (::ffff:a.b.c.d) unwrapped; None if unusable."""
    if not value:
        return None
    try:
        address = ipaddress.ip_address(str(value).strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def ip_group(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address | None,
    ipv6_prefix: int,
    ipv4_prefix: int = 32,
) -> str:
    """The text a client's IP is counted under: the address itself, or its
    network of `ipv4_prefix` / `ipv6_prefix` bits, since one attacker owns a
    whole IPv6 /64 (and some sites count an IPv4 /24 as one client)."""
    if address is None:
        return UNKNOWN_IP
    if address.version == 6 and ipv6_prefix < 128:
        return str(ipaddress.IPv6Network((address, ipv6_prefix), strict=False))
    if address.version == 4 and ipv4_prefix < 32:
        return str(ipaddress.IPv4Network((address, ipv4_prefix), strict=False))
    return str(address)


@dataclass(frozen=True)
class ClientIdentity:
    """One login attempt's identity, normalised for counting."""

    ip_address: str | None  # the address as seen, for records and logs
    ip_group: str  # what IP counters count: address or IPv6 network
    username: str  # normalised, "" when none was given
    raw_username: str | None  # as typed (clipped), for events and records

    @classmethod
    def build(
        cls,
        ip_address: str | None,
        username: str | None,
        ipv6_prefix: int = 64,
        ipv4_prefix: int = 32,
    ) -> ClientIdentity:
        address = parse_ip(ip_address)
        return cls(
            ip_address=str(address) if address else None,
            ip_group=ip_group(address, ipv6_prefix, ipv4_prefix),
            username=normalize_username(username),
            raw_username=clip_text(None if username is None else str(username)),
        )

    @property
    def address(self):
        return parse_ip(self.ip_address)


@dataclass(frozen=True)
class CounterKey:
    """The identity of one counter: a scope and the values it is counted by,
    in the namespace of one entry point ("" for logins)."""

    scope: str
    ip_group: str | None
    username: str | None
    entry_point: str = ""

    @property
    def digest(self) -> str:
        """Fixed-length unique key for storage, whatever the username's length.
        A login's counters keep the digests they had before entry points had
        namespaces; another entry point's never equal a login's."""
        parts = (self.scope, self.ip_group or "", self.username or "")
        if self.entry_point:
            parts = (f"entry:{self.entry_point}", *parts)
        raw = "\x00".join(parts)
        return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()

    def __str__(self) -> str:
        if self.scope in (SCOPE_IP, SCOPE_NETWORK):
            return self.ip_group or UNKNOWN_IP
        if self.scope == SCOPE_USERNAME:
            return self.username or ""
        return f"{self.username} @ {self.ip_group}"


def counter_keys(
    client: ClientIdentity, method: str, entry_point: EntryPoint | None = None
) -> list[CounterKey]:
    """The counters a failure of `client` adds to under lockout `method`, or
    under what `entry_point` counts by (its own namespace)."""
    scopes = SCOPES_BY_METHOD[method]
    namespace = ""
    if entry_point is not None:
        scopes = entry_point.scopes or scopes
        namespace = entry_point.namespace
    keys = []
    for scope in scopes:
        keys.append(
            CounterKey(
                scope=scope,
                ip_group=None if scope == SCOPE_USERNAME else client.ip_group,
                username=None if scope == SCOPE_IP else client.username,
                entry_point=namespace,
            )
        )
    return keys


# --- entry points: the doors into a site, each counted in its own namespace ---

LOGIN = "login"
PAGE_PASSWORD = "page_password"  # noqa: S105 (a name, no secret)
DOCUMENT_PASSWORD = "document_password"  # noqa: S105 (a name, no secret)
PASSWORD_RESET = "password_reset"  # noqa: S105 (a name, no secret)
PASSWORD_RESET_LINK = "password_reset_link"  # noqa: S105 (a name, no secret)
PASSWORD_CHANGE = "password_change"  # noqa: S105 (a name, no secret)
API_TOKEN = "api_token"  # noqa: S105 (a name, no secret)
SESSION_COOKIE = "session_cookie"
OTP = "otp"
SIGN_IN_LINK = "sign_in_link"
# Not a door: the namespace of the account budgets' counts (`account_budget`).
ACCOUNT_BUDGET = "account_budget"

# What an entry point's counters are counted by: the client's IP, the key the
# attempt names (an account, an address, a page's restriction), both together,
# each on its own, or whatever `lockout_method` says (as logins are).
BY_IP = "ip"
BY_KEY = "key"
BY_IP_AND_KEY = "ip_and_key"
BY_IP_OR_KEY = "ip_or_key"
BY_LOCKOUT_METHOD = "lockout_method"
_SCOPES_BY_COUNTING = {
    BY_IP: (SCOPE_IP,),
    BY_KEY: (SCOPE_USERNAME,),
    BY_IP_AND_KEY: (SCOPE_PAIR,),
    BY_IP_OR_KEY: (SCOPE_IP, SCOPE_USERNAME),
    BY_LOCKOUT_METHOD: (),
}
COUNTINGS = tuple(_SCOPES_BY_COUNTING)
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")


@dataclass(frozen=True)
class EntryPoint:
    """One door into the site: its name (shown in reports, events and the
    security log) and what its attempts are counted by."""

    name: str
    counted_by: str = BY_LOCKOUT_METHOD

    def __post_init__(self) -> None:
        # The name goes into log lines that fail2ban reads: a fixed word only.
        if not self.name or len(self.name) > 40 or set(self.name) - _NAME_CHARS:
            raise ValueError(
                f"Entry point names are 1-40 of a-z, 0-9 and _: {self.name!r}"
            )
        if self.counted_by not in _SCOPES_BY_COUNTING:
            raise ValueError(f"counted_by must be one of {', '.join(COUNTINGS)}")

    @property
    def scopes(self) -> tuple[str, ...]:
        """The scopes of its counters (empty: those of `lockout_method`)."""
        return _SCOPES_BY_COUNTING[self.counted_by]

    @property
    def namespace(self) -> str:
        """The namespace of its counter keys; logins keep the bare one."""
        return "" if self.name == LOGIN else self.name

    @property
    def is_login(self) -> bool:
        return self.name == LOGIN


LOGIN_ENTRY = EntryPoint(LOGIN)
# The entry points this package counts itself (docs/entry-points.md).
BUILT_IN = {
    entry.name: entry
    for entry in (
        LOGIN_ENTRY,
        EntryPoint(PAGE_PASSWORD, BY_IP_AND_KEY),
        EntryPoint(DOCUMENT_PASSWORD, BY_IP_AND_KEY),
        EntryPoint(PASSWORD_RESET, BY_IP_OR_KEY),
        EntryPoint(PASSWORD_RESET_LINK, BY_IP),
        EntryPoint(PASSWORD_CHANGE, BY_KEY),
        EntryPoint(API_TOKEN, BY_IP),
        EntryPoint(SESSION_COOKIE, BY_IP),
        EntryPoint(OTP, BY_KEY),
        EntryPoint(SIGN_IN_LINK, BY_IP_OR_KEY),
    )
}
