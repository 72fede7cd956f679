"""Hostile input at the login pages: no 500, no crash, no lost count, no password
kept anywhere.

Every test here runs under `no_password_kept` (autouse): all log records of all
loggers at DEBUG, every text cell of every database table, decoded sessions and
sent mail are searched for the mark that every submitted password carries. The
mark is plain ASCII letters and digits, so it survives URL, JSON and HTML
escaping and the search is case-insensitive: a password kept in any readable
form is found.

"No lost count" means: every request whose password was checked (the counting
hasher ran) added exactly one failure, and a request refused before the check
(a form error, a body too big) checked no password. Property-based tests
(hypothesis, derandomized) drive both login pages with arbitrary usernames,
bytes, peer addresses and forwarding headers.
"""

from __future__ import annotations

import ipaddress
import logging
import unicodedata
from urllib.parse import quote, quote_from_bytes

import pytest
from axes.models import AccessFailureLog
from django.contrib.auth import authenticate, get_user_model
from django.contrib.sessions.models import Session
from django.core import mail
from django.db import connection
from django.test import Client, RequestFactory
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.conftest import PASSWORD, client_counters
from tests.hashers import CountingHasher
from wagtail_loginlimit import clients, storage
from wagtail_loginlimit.clients import (
    MAX_USERNAME_LENGTH,
    UNKNOWN_IP,
    ip_group,
    normalize_username,
    parse_ip,
)
from wagtail_loginlimit.models import Lockout

# In every password these tests submit; must never be found anywhere.
MARK = "Pw0rdMark7Qx"
MISSING = object()  # a META key left out of the request altogether
LOGIN_PAGES = ("/admin/login/", "/accounts/login/")
FORM = "application/x-www-form-urlencoded"
MB = 1024 * 1024

HYPOTHESIS = hypothesis_settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --- the leak check ---


class _Keep(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))


@pytest.fixture
def all_logs():
    """Every record of every logger at DEBUG, formatted (with tracebacks)."""
    keep = _Keep()
    root = logging.getLogger()
    loggers = [root] + [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    saved = [(logger, logger.level, logger.disabled) for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
        if logger is root or not logger.propagate:
            logger.addHandler(keep)
    yield keep.lines
    for logger, level, disabled in saved:
        logger.setLevel(level)
        logger.disabled = disabled
        logger.removeHandler(keep)


def stored_text():
    """(where, text) for every text or binary cell of every table, every decoded
    session and every sent mail."""
    quote_name = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            # Table names come from the database's own catalogue.
            cursor.execute(f"SELECT * FROM {quote_name(table)}")  # noqa: S608
            columns = [column[0] for column in cursor.description]
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    if isinstance(value, bytes | memoryview):
                        value = bytes(value).decode("utf-8", "replace")
                    if isinstance(value, str):
                        yield f"{table}.{column}", value
    for session in Session.objects.all():
        yield "session", repr(session.get_decoded())
    for message in mail.outbox:
        yield "mail", message.message().as_string()
    yield from redis_text()


def redis_text():
    """(where, text) for every key and value in Redis, when the run keeps the
    counters there (the cache store)."""
    store = storage.get_store()
    if store.name != "cache":
        return
    client = store.client()
    for name in client.scan_iter(count=1000):
        where = f"redis {name.decode('utf-8', 'replace')}"
        kind = client.type(name).decode()
        if kind == "string":
            values = [client.get(name)]
        elif kind == "set":
            values = list(client.smembers(name))
        else:
            values = []
        yield where, name.decode("utf-8", "replace")
        for value in values:
            yield where, value.decode("utf-8", "replace")


@pytest.fixture(autouse=True)
def no_password_kept(db, all_logs):
    yield
    mark = MARK.casefold()
    for where, text in stored_text():
        assert mark not in text.casefold(), f"a submitted password is kept in {where}"
    for line in all_logs:
        assert mark not in line.casefold(), f"a submitted password was logged: {line}"


def test_the_leak_check_finds_a_kept_password(all_logs):
    """The check above can fail: a password written to a table or a log is found."""
    get_user_model().objects.create_user(username="x", first_name=f"my {MARK.lower()}")
    logging.getLogger("some.library").debug("got password=%s", MARK)

    assert any(MARK.casefold() in text.casefold() for _, text in stored_text())
    assert any(MARK in line for line in all_logs)
    get_user_model().objects.filter(username="x").delete()
    all_logs.clear()

    store = storage.get_store()
    if store.name == "cache":  # a `redis` run: Redis is searched too
        store.client().set(store.counter_name("leak"), f"my {MARK}")
        assert [where for where, text in stored_text() if MARK in text] == [
            f"redis {store.counter_name('leak')}"
        ]
        store.client().delete(store.counter_name("leak"))


# --- helpers ---


class BareClient(Client):
    """A test client that can leave META keys out (the value `MISSING`),
    `REMOTE_ADDR` included, as a WSGI server behind a Unix socket may."""

    def _base_environ(self, **request):
        environ = super()._base_environ(**request)
        for key in [key for key, value in environ.items() if value is MISSING]:
            del environ[key]
        return environ


def password(suffix: str = "") -> str:
    return f"{MARK}{suffix}"


def form_body(username: bytes | str, secret: str = "") -> bytes:
    """An urlencoded body; `username` as bytes may be invalid UTF-8."""
    if isinstance(username, str):
        username = username.encode("utf-8", "surrogatepass")
    body = f"username={quote_from_bytes(username)}&password={quote(password(secret))}"
    return body.encode("ascii")


def post_raw(body: bytes, path="/admin/login/", content_type=FORM, **meta):
    meta.setdefault("REMOTE_ADDR", "203.0.113.7")
    return BareClient().generic("POST", path, body, content_type=content_type, **meta)


def failures(**match) -> int:
    """The failures counted (of an `ip_group` and/or a `username`, or all), in
    whichever store the run uses."""
    return sum(counter.failures for counter in client_counters(**match))


@pytest.fixture
def by_username(settings):
    settings.WAGTAIL_LOGINLIMIT = {"lockout_method": "username"}


@pytest.fixture
def checks():
    """Password checks so far: the counting hasher's calls."""
    CountingHasher.calls = 0
    return lambda: CountingHasher.calls


def assert_counted_once(response, checks_before: int, checks_after: int, **match):
    assert response.status_code == 200, response.status_code
    assert checks_after > checks_before, "the password was not checked"
    assert failures(**match) == 1


# --- long usernames ---


def test_a_1mb_username_is_counted_and_clipped(by_username, checks):
    """Django's own login form passes any length to `authenticate()`: the count
    keeps the name at 255 characters, distinct by a digest of the whole."""
    path = "/accounts/login/"
    name = "a" * MB
    for attempt in range(3):
        response = post_raw(form_body(name), path)
        assert response.status_code == 200
        assert checks() == attempt + 1
    assert "1 attempt remaining" in response.content.decode()

    [counter] = client_counters()
    assert counter.failures == 3
    assert len(counter.username) == MAX_USERNAME_LENGTH
    log = AccessFailureLog.objects.all()
    assert {len(entry.username) for entry in log} == {MAX_USERNAME_LENGTH}

    # The 4th locks the name out; a name that differs only in its last
    # character is another name, with its own count.
    assert post_raw(form_body(name), path).status_code == 429
    assert len(Lockout.objects.get().username) == MAX_USERNAME_LENGTH
    other = post_raw(form_body(name[:-1] + "b"), path)
    assert other.status_code == 200
    assert "3 attempts remaining" in other.content.decode()


def test_a_huge_username_is_not_unicode_normalized(by_username, monkeypatch):
    """NFKC can grow text 18-fold: normalising a 2.4 MB name of `ﷺ` took
    seconds of CPU per request. Names longer than any account's are only kept
    distinct by a digest; what gets normalised stays small."""
    normalized = []

    class Spy:
        # The real unicodedata, recording the length of what it normalises.
        def __getattr__(self, name):
            return getattr(unicodedata, name)

        def normalize(self, form, text):
            normalized.append(len(text))
            return unicodedata.normalize(form, text)

    monkeypatch.setattr(clients, "unicodedata", Spy())
    name = "\ufdfa" * 800_000  # 2.4 MB as UTF-8, under the upload limit
    response = BareClient().post(
        "/accounts/login/", {"username": name, "password": password()}
    )

    assert response.status_code == 200
    assert failures() == 1
    assert normalized and max(normalized) <= 18 * MAX_USERNAME_LENGTH
    # Still one name: the same text lands on the same count.
    BareClient().post("/accounts/login/", {"username": name, "password": password()})
    [counter] = client_counters()
    assert counter.failures == 2


def test_a_1mb_username_is_a_form_error_in_the_wagtail_admin(checks):
    """Wagtail's login form allows 254 characters: a longer name is refused
    before any password check, so there is no attempt to count."""
    response = post_raw(form_body("a" * MB), "/admin/login/")
    assert response.status_code == 200
    assert "at most 254 characters" in response.content.decode()
    assert checks() == 0
    assert failures() == 0


def test_a_1mb_password_is_counted(checks):
    response = post_raw(form_body("editor", "x" * MB))
    assert_counted_once(response, 0, checks())


# --- NUL bytes and invalid UTF-8 ---


@pytest.mark.parametrize(
    "body",
    [
        form_body("ad\x00min"),
        form_body("admin", "se\x00cret"),
        b"username=admin%00&password=" + quote(password()).encode() + b"%00",
    ],
    ids=["in-username", "in-password", "trailing"],
)
def test_nul_bytes_are_a_form_error_and_no_password_is_checked(body, checks):
    """Django's form fields refuse NUL characters before any password check, so
    there is no attempt to count: the form says why, and nothing was tried."""
    response = post_raw(body)
    assert response.status_code == 200
    assert "Null characters are not allowed" in response.content.decode()
    assert checks() == 0
    assert failures() == 0


def test_nul_bytes_passed_straight_to_authenticate_are_counted(by_username, checks):
    """A login view that calls `authenticate()` itself, without Django's form
    validation: the attempt is counted, no password is checked (no account can
    have such a name; PostgreSQL would refuse the lookup) and the NUL never
    reaches the database."""
    factory = RequestFactory()
    name = "ad\x00min"
    for _ in range(4):
        request = factory.post("/api/login/", REMOTE_ADDR="203.0.113.7")
        assert authenticate(request, username=name, password=password()) is None
    assert failures() == 4
    assert checks() == 0

    request = factory.post("/api/login/", REMOTE_ADDR="203.0.113.7")
    assert authenticate(request, username=name, password=password()) is None
    assert failures() == 4, "a refused try during the lockout was counted"
    [counter] = client_counters()
    assert "\x00" not in counter.username
    assert all("\x00" not in entry.username for entry in AccessFailureLog.objects.all())


@pytest.mark.parametrize("path", LOGIN_PAGES)
@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (form_body(b"\xff\xfead\xc3min"), FORM),  # percent-encoded invalid UTF-8
        (b"username=\xff\xfe\xc3&password=" + password().encode(), FORM),  # raw bytes
        (form_body(b"\xed\xa0\x80admin"), FORM),  # an encoded surrogate
        (form_body("admin"), FORM + "; charset=no-such-charset"),
    ],
    ids=["percent", "raw", "surrogate", "unknown-charset"],
)
def test_invalid_utf8_is_counted(path, body, content_type, checks):
    response = post_raw(body, path, content_type)
    assert_counted_once(response, 0, checks())
    [counter] = client_counters()
    assert counter.ip_group == "203.0.113.7"
    assert AccessFailureLog.objects.count() == 1


def test_a_form_body_in_another_charset_is_a_400(checks):
    """Django requires urlencoded forms in UTF-8 and says so with a 400."""
    response = post_raw(form_body(b"caf\xe9"), content_type=FORM + "; charset=latin-1")
    assert response.status_code == 400
    assert checks() == 0


def test_invalid_utf8_in_multipart_is_counted(checks):
    boundary = "BoUnDaRy"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="username"\r\n\r\n'
        ).encode()
        + b"\xff\xfeadmin\r\n"
        + (
            f"--{boundary}\r\n"
            'Content-Disposition: form-data; name="password"\r\n\r\n'
            f"{password()}\r\n"
            f"--{boundary}--\r\n"
        ).encode()
    )
    response = post_raw(body, content_type=f"multipart/form-data; boundary={boundary}")
    assert_counted_once(response, 0, checks())


# --- look-alikes and case: the decision in clients.normalize_username ---


def test_case_and_width_variants_count_as_one_username(by_username, checks):
    """`Admin`, `ADMIN`, fullwidth `ａｄｍｉｎ` and `admin` are one name: four
    failures spread over them lock the name out."""
    for variant in ("Admin", "ADMIN", "ａｄｍｉｎ", "admin"):
        post_raw(form_body(variant))
    assert failures(username="admin") == 4

    before = checks()
    assert post_raw(form_body("aDmIn")).status_code == 429
    assert checks() == before
    # The failure log keeps what was typed.
    typed = set(AccessFailureLog.objects.values_list("username", flat=True))
    assert typed == {"Admin", "ADMIN", "ａｄｍｉｎ", "admin"}


def test_case_variants_of_two_real_accounts_share_one_count(by_username):
    """Django allows both `Admin` and `admin` as accounts. They share a count:
    failures against one lock out both (stricter, never weaker)."""
    User = get_user_model()
    User.objects.create_user(username="Admin", password=PASSWORD)
    User.objects.create_user(username="admin", password=PASSWORD)
    for _ in range(4):
        post_raw(form_body("Admin"))

    response = post_raw(f"username=admin&password={quote(PASSWORD)}".encode())
    assert response.status_code == 429


@pytest.mark.parametrize(
    "look_alike",
    ["\u0430dmin", "\u0430\u0501min", "adm\u0456n"],
    ids=["cyrillic-a", "cyrillic-a-d", "ukrainian-i"],
)
def test_look_alikes_from_other_scripts_are_other_usernames(by_username, look_alike):
    """Cyrillic `а` is not Latin `a`: another name (another account to Django),
    with a count of its own. Locking out `admin` does not lock out `аdmin`, and
    failures against `аdmin` do not count towards `admin`."""
    for _ in range(4):
        post_raw(form_body("admin"))
    assert post_raw(form_body("admin")).status_code == 429

    response = post_raw(form_body(look_alike))
    assert response.status_code == 200
    assert "3 attempts remaining" in response.content.decode()
    assert failures(username=normalize_username(look_alike)) == 1


def test_normalizing_a_normalized_name_changes_nothing():
    """A name copied from a report (already normalised) matches the same count."""
    tricky = "\u0130\u0316"  # İ + combining grave below: casefold reorders marks
    assert normalize_username(normalize_username(tricky)) == normalize_username(tricky)


def test_username_normalization_is_stable_and_bounded():
    @HYPOTHESIS
    @given(
        st.text(max_size=40)
        | st.text(max_size=MAX_USERNAME_LENGTH * 2)
        | st.text(min_size=MAX_USERNAME_LENGTH * 4, max_size=MAX_USERNAME_LENGTH * 5)
    )
    def run(name):
        once = normalize_username(name)
        assert normalize_username(once) == once
        assert len(once) <= MAX_USERNAME_LENGTH
        assert "\x00" not in once
        if name.isascii():
            assert normalize_username(name.upper()) == once

    run()


# --- peer address: malformed or missing ---

GARBAGE_ADDRESSES = [
    MISSING,
    "",
    "   ",
    "not-an-ip",
    "999.999.999.999",
    "1.2.3.4.5",
    "::ffff:zz",
    "unix:/run/gunicorn.sock",
    "\x00",
    "\u0661\u0662\u0667.0.0.1",  # Arabic-Indic digits
    "203.0.113.7\r\nX-Injected: 1",
    "x" * 5000,
]


@pytest.mark.parametrize("address", GARBAGE_ADDRESSES)
def test_an_unusable_peer_address_is_counted_as_unknown(address, checks):
    response = post_raw(form_body("editor"), REMOTE_ADDR=address)
    assert_counted_once(response, 0, checks(), ip_group=UNKNOWN_IP)


def test_unusable_peer_addresses_share_one_count(user, checks):
    """However the address is garbled, it cannot escape a lockout: all unusable
    addresses are the one client "unknown"."""
    for address in GARBAGE_ADDRESSES[:4]:
        post_raw(form_body("editor"), REMOTE_ADDR=address)
    assert failures(ip_group=UNKNOWN_IP) == 4

    before = checks()
    body = f"username=editor&password={quote(PASSWORD)}".encode()
    assert post_raw(body, REMOTE_ADDR=GARBAGE_ADDRESSES[5]).status_code == 429
    assert checks() == before
    # A client with a real address is not affected.
    assert post_raw(body, REMOTE_ADDR="203.0.113.7").status_code == 302


# --- X-Forwarded-For garbage ---

GARBAGE_FORWARDED = [
    "",
    ",,,",
    "unknown",
    "for=_hidden",
    "999.1.1.1",
    "\x00",
    "198.51.100.1\r\nX-Injected: 1",
    "\U0001f600",
    ", ".join(["198.51.100.1"] * 2000),
    "[::1]:80, ::ffff:198.51.100.9, fe80::1%eth0",
]


@pytest.mark.parametrize("forwarded", GARBAGE_FORWARDED)
def test_forwarded_for_garbage_is_ignored(forwarded, checks):
    response = post_raw(form_body("editor"), HTTP_X_FORWARDED_FOR=forwarded)
    assert_counted_once(response, 0, checks(), ip_group="203.0.113.7")


@pytest.mark.parametrize("forwarded", GARBAGE_FORWARDED)
def test_forwarded_for_garbage_behind_nginx_counts_the_client(
    settings, forwarded, checks
):
    """With the proxy recipe of docs/deployment.md, nginx appends the address it
    saw after whatever the client sent: that address is counted."""
    settings.AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"]
    settings.AXES_IPWARE_PROXY_COUNT = 0
    settings.IPWARE_STRICT = False
    appended = f"{forwarded}, 203.0.113.7" if forwarded else "203.0.113.7"
    response = post_raw(
        form_body("editor"), REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=appended
    )
    assert_counted_once(response, 0, checks(), ip_group="203.0.113.7")


# --- huge and odd bodies ---


def test_a_body_over_the_upload_limit_is_a_400(settings, checks):
    """Django refuses bodies over DATA_UPLOAD_MAX_MEMORY_SIZE with a 400 before
    any form is read; no password was checked, so there is nothing to count."""
    body = form_body("editor", "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1))
    for path in LOGIN_PAGES:
        assert post_raw(body, path).status_code == 400
    assert checks() == 0
    assert failures() == 0


def test_a_multipart_field_over_the_upload_limit_is_a_400(settings, checks):
    boundary = "BoUnDaRy"
    big = "a" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    body = (
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="username"\r\n\r\n'
        f"{big}\r\n"
        f"--{boundary}\r\n"
        'Content-Disposition: form-data; name="password"\r\n\r\n'
        f"{password()}\r\n"
        f"--{boundary}--\r\n"
    ).encode()
    content_type = f"multipart/form-data; boundary={boundary}"
    assert post_raw(body, content_type=content_type).status_code == 400
    assert checks() == 0


def test_too_many_fields_is_a_400(settings, checks):
    extra = "&".join(f"f{i}=1" for i in range(settings.DATA_UPLOAD_MAX_NUMBER_FIELDS))
    body = form_body("editor") + b"&" + extra.encode()
    assert post_raw(body).status_code == 400
    assert checks() == 0


def test_a_username_given_twice_counts_the_one_django_checks(by_username, checks):
    """`username=a&username=b`: Django's forms read the last value, and so does
    the count; the first one is never counted."""
    victim = get_user_model().objects.create_user(username="victim", password=PASSWORD)
    for _ in range(4):
        post_raw(
            f"username=decoy&username={victim.username}"
            f"&password={quote(password())}".encode()
        )
    assert failures(username="victim") == 4
    assert failures(username="decoy") == 0

    before = checks()
    body = f"username=decoy&username=victim&password={quote(PASSWORD)}".encode()
    assert post_raw(body).status_code == 429
    assert checks() == before


def test_a_username_field_with_another_name_is_not_a_login(checks):
    """`username[]=…` is not the username field: the form says it is missing."""
    response = post_raw(f"username[]=editor&password={quote(password())}".encode())
    assert response.status_code == 200
    assert checks() == 0
    assert failures() == 0


# --- property-based: anything at both login pages ---

addresses = st.one_of(
    st.tuples(st.just("v4"), st.ip_addresses(v=4, network="203.0.113.0/24").map(str)),
    st.tuples(st.just("v6"), st.ip_addresses(v=6, network="2001:db8::/32").map(str)),
    st.tuples(st.just("garbage"), st.text(max_size=40)),
    st.tuples(st.just("missing"), st.just(MISSING)),
)
forwarded_values = st.one_of(
    st.just(MISSING),
    st.text(max_size=80),
    st.lists(
        st.one_of(st.ip_addresses().map(str), st.text(max_size=12)), max_size=6
    ).map(", ".join),
)
usernames = st.one_of(
    st.text(max_size=300),
    st.binary(max_size=300),  # raw bytes: often invalid UTF-8
    st.sampled_from(["admin", "Admin", "ＡＤＭＩＮ", "\u0430dmin", "editor"]),
)


def expected_ip_group(kind: str, address) -> str | None:
    """The count a peer address must land on; None when any usable one will do."""
    if kind in ("v4", "v6"):
        return ip_group(parse_ip(address), 64)
    if kind == "missing":
        return UNKNOWN_IP
    return None


def check_one_hostile_request(path, username, secret, address, forwarded, multipart):
    storage.clear_and_lift(everything=True)
    Lockout.objects.all().delete()
    kind, remote_addr = address
    meta = {"REMOTE_ADDR": remote_addr, "HTTP_X_FORWARDED_FOR": forwarded}
    before = CountingHasher.calls
    if multipart:
        data = {
            "username": username.decode("utf-8", "replace")
            if isinstance(username, bytes)
            else username,
            "password": password(secret),
        }
        response = BareClient().post(path, data, **meta)
    else:
        response = post_raw(form_body(username, secret), path, **meta)

    assert response.status_code == 200, response.status_code
    # The page never shows the password back.
    assert MARK.casefold() not in response.content.decode().casefold()
    checked = CountingHasher.calls > before
    counters = client_counters()
    # Every password check was counted, once; nothing else was.
    assert sum(counter.failures for counter in counters) == (1 if checked else 0)
    for counter in counters:
        if counter.failures:
            expected = expected_ip_group(kind, remote_addr)
            if expected is not None:
                # The header never chose the address.
                assert counter.ip_group == expected
            else:
                assert counter.ip_group == UNKNOWN_IP or parse_ip(
                    counter.ip_group.split("/")[0]
                )
            assert len(counter.username) <= MAX_USERNAME_LENGTH


def test_anything_at_the_login_pages_is_counted_or_refused(db):
    @HYPOTHESIS
    @given(
        path=st.sampled_from(LOGIN_PAGES),
        username=usernames,
        secret=st.text(max_size=40),
        address=addresses,
        forwarded=forwarded_values,
        multipart=st.booleans(),
    )
    def run(**example):
        check_one_hostile_request(**example)

    run()


def test_anything_at_the_login_pages_with_a_lockout_method_by_username(settings, db):
    settings.WAGTAIL_LOGINLIMIT = {"lockout_method": "ip_or_username"}

    @HYPOTHESIS
    @given(
        path=st.sampled_from(LOGIN_PAGES),
        username=usernames,
        secret=st.text(max_size=40),
        address=addresses,
        forwarded=forwarded_values,
    )
    def run(**example):
        # Two counters per failure under ip_or_username: one per scope.
        storage.clear_and_lift(everything=True)
        kind, remote_addr = example["address"]
        meta = {
            "REMOTE_ADDR": remote_addr,
            "HTTP_X_FORWARDED_FOR": example["forwarded"],
        }
        before = CountingHasher.calls
        body = form_body(example["username"], example["secret"])
        response = post_raw(body, example["path"], **meta)
        assert response.status_code == 200
        checked = CountingHasher.calls > before
        scopes = sorted((c.scope, c.failures) for c in client_counters())
        if checked:
            assert scopes == [("ip", 1), ("username", 1)]
        else:
            assert all(count == 0 for _, count in scopes)

    run()


def test_ip_grouping_of_any_address_is_an_address_or_a_network():
    @HYPOTHESIS
    @given(st.ip_addresses() | st.text(max_size=60))
    def run(value):
        group = ip_group(parse_ip(str(value)), 64)
        if group != UNKNOWN_IP:
            ipaddress.ip_network(group)  # parses, or this raises

    run()
