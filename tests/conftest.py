import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model

from tests.hashers import CountingHasher

PASSWORD = "correct horse battery staple"  # noqa: S105


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def hasher_calls():
    """How many times a password was hashed or checked since the test began."""
    CountingHasher.calls = 0
    return lambda: CountingHasher.calls


@pytest.fixture
def user(db):
    return get_user_model().objects.create_user(
        username="editor", email="editor@example.com", password=PASSWORD
    )


@pytest.fixture
def admin_user(db):
    return get_user_model().objects.create_superuser(
        username="admin", email="admin@example.com", password=PASSWORD
    )


@pytest.fixture
def login(client):
    """POST to the Wagtail admin login page from a given IP."""

    def post(
        username, password="wrong", ip="203.0.113.7", path="/admin/login/", **extra
    ):
        return client.post(
            path,
            {"username": username, "password": password},
            REMOTE_ADDR=ip,
            **extra,
        )

    return post


# --- configuration and clock (shared by the core tests) ---

START = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock(time_machine):
    """A stopped clock at `START`; move it with `clock.shift(timedelta(...))`."""
    time_machine.move_to(START, tick=False)
    return time_machine


@pytest.fixture
def admin_limits(db):
    """Change Settings → Login limits as saved by the admin panel: values in the
    model's own types (seconds, text one entry per line)."""

    def change(**values):
        from wagtail_loginlimit.models import LoginLimitSettings

        obj = LoginLimitSettings.load()
        for key, value in values.items():
            if isinstance(value, timedelta):
                value = int(value.total_seconds())
            elif isinstance(value, list | tuple):
                value = "\n".join(value)
            setattr(obj, key, value)
        obj.full_clean()
        obj.save()
        return obj

    return change


@pytest.fixture(params=["WAGTAIL_LOGINLIMIT", "settings panel"])
def configure(request, settings, admin_limits):
    """Set login-limit values either in code (`WAGTAIL_LOGINLIMIT`) or in the
    Wagtail setting; a test using it runs once for each."""

    def apply(**values):
        if request.param == "WAGTAIL_LOGINLIMIT":
            settings.WAGTAIL_LOGINLIMIT = {
                **(getattr(settings, "WAGTAIL_LOGINLIMIT", None) or {}),
                **values,
            }
        else:
            admin_limits(**values)

    apply.source = request.param
    return apply


# --- the store under test and its servers (tests/services.py) ---


def pytest_report_header(config):
    from django.conf import settings as django_settings

    store = getattr(django_settings, "TEST_STORE", "sqlite")
    lines = [f"login-limit store: {store}"]
    if store != RACES_STORE:
        lines.append(
            f"{RACES.name}: deselected (runs with LOGINLIMIT_TEST_STORE={RACES_STORE})"
        )
    if once_per_run_elsewhere():
        names = ", ".join(path.name for path in ONCE_PER_RUN)
        lines.append(f"{names}: deselected (run once per tox run, {ONCE_PER_RUN_ENV})")
    if browser_tests_elsewhere():
        names = ", ".join(path.name for path in BROWSER)
        lines.append(f"{names}: deselected (run once per Wagtail version)")
    return lines


# tests/test_races.py starts gunicorn servers on a PostgreSQL (and, for two
# scenarios, a Redis) of its own from tests/services.py, whatever store the
# run tests: it would run the same scenarios against the same servers in every
# tox env. It runs once per CI run, in the `postgres` env, and is deselected
# (not skipped: nothing is missing) in every other. A developer runs it with
# LOGINLIMIT_TEST_STORE=postgres; under CI=true a missing PostgreSQL or Redis
# still fails it (tests/services.py).
RACES = Path(__file__).with_name("test_races.py")
RACES_STORE = "postgres"


# What tests only this project's own files and outside tools (the built
# wheel, the benchmark harness under gunicorn, the fail2ban filter with
# fail2ban-regex and nftables, the docs' links) gives the same answer under
# every Django, Wagtail and store: tox runs it in one env (ONCE_PER_RUN_ENV)
# and sets LOGINLIMIT_ONCE_PER_RUN=elsewhere in the others, where it is
# deselected as the race tests are. A plain `pytest` runs it.
ONCE_PER_RUN = [
    Path(__file__).with_name(name)
    for name in (
        "test_benchmarks_smoke.py",
        "test_wheel.py",
        "test_fail2ban.py",
        "test_docs.py",
    )
]
ONCE_PER_RUN_ENV = "py311-django52-sqlite"
# The pages in real Chromium depend on the admin's markup, so on the Wagtail
# version, not on Django's nor the store: tox runs them with Wagtail 8
# (py311-django52-sqlite) and the 7.4 LTS (py311-django52-wagtail74), and sets
# LOGINLIMIT_BROWSER_TESTS=elsewhere in the other envs.
BROWSER = [
    Path(__file__).with_name(name)
    for name in ("test_browser.py", "test_admin_browser.py")
]


def once_per_run_elsewhere() -> bool:
    return os.environ.get("LOGINLIMIT_ONCE_PER_RUN", "") == "elsewhere"


def browser_tests_elsewhere() -> bool:
    return os.environ.get("LOGINLIMIT_BROWSER_TESTS", "") == "elsewhere"


def _deselect(config, items, paths) -> None:
    dropped = [item for item in items if item.path in paths]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item.path not in paths]


def pytest_collection_modifyitems(config, items):
    """Deselect the race tests outside a `postgres` run (see `RACES`), the
    once-per-run tests and the browser tests where tox runs them elsewhere
    (`ONCE_PER_RUN`, `BROWSER`); and
    when LOGINLIMIT_TEST_STORE names a server that is not installed (outside
    CI), skip everything, saying why, rather than test another store
    silently."""
    from django.conf import settings as django_settings

    if getattr(django_settings, "TEST_STORE", "sqlite") != RACES_STORE:
        _deselect(config, items, {RACES})
    if once_per_run_elsewhere():
        _deselect(config, items, set(ONCE_PER_RUN))
    if browser_tests_elsewhere():
        _deselect(config, items, set(BROWSER))
    reason = getattr(django_settings, "TEST_STORE_SKIP", "")
    if reason:
        for item in items:
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def postgres_server():
    """The session's real PostgreSQL server (skipped if not installed, except
    under CI)."""
    from tests import services

    try:
        return services.postgres()
    except services.ServiceMissing as error:
        services.missing(error)


@pytest.fixture(scope="session")
def redis_server():
    """The session's real Redis server (skipped if not installed, except under
    CI)."""
    from tests import services

    try:
        return services.redis()
    except services.ServiceMissing as error:
        services.missing(error)


class _KeepingStore:
    """pytest-django's `settings`, except that a test which sets
    `WAGTAIL_LOGINLIMIT` keeps the store of the run (a `redis` run's cache
    store) unless it names a store itself."""

    def __init__(self, wrapped, store: dict) -> None:
        object.__setattr__(self, "_wrapped", wrapped)
        object.__setattr__(self, "_store", store)

    def __getattr__(self, name):
        return getattr(self._wrapped, name)

    def __setattr__(self, name, value):
        if name == "WAGTAIL_LOGINLIMIT":
            if value is True:
                value = dict(self._store)
            elif isinstance(value, dict):
                value = {**self._store, **value}
        setattr(self._wrapped, name, value)

    def __delattr__(self, name):
        delattr(self._wrapped, name)


@pytest.fixture
def settings(settings):
    from django.conf import settings as django_settings

    if getattr(django_settings, "TEST_STORE", "sqlite") != "redis":
        return settings
    return _KeepingStore(settings, django_settings.TEST_CACHE_STORE)


@pytest.fixture(autouse=True)
def _fresh_redis_store():
    """In a `redis` run, every test starts with no counters (the database is
    rolled back by pytest-django; Redis is emptied here)."""
    from django.conf import settings as django_settings

    if getattr(django_settings, "TEST_STORE", "sqlite") == "redis" and not getattr(
        django_settings, "TEST_STORE_SKIP", ""
    ):
        from django.core.cache import caches

        caches["loginlimit"].clear()


@pytest.fixture(autouse=True)
def _empty_default_cache():
    """The dashboard panel keeps its figures in the `default` cache, which
    outlives each test's database: every test starts with none."""
    from django.core.cache import caches

    caches["default"].clear()


def client_counters(**match) -> list:
    """The stored counters of clients (`storage.counters`), without the
    networks' (`network_retries`) and the accounts' budgets
    (`account_budget`), which count the same failures again."""
    from wagtail_loginlimit import storage
    from wagtail_loginlimit.clients import ACCOUNT_BUDGET, SCOPE_NETWORK

    return [
        c
        for c in storage.counters(**match)
        if c.scope != SCOPE_NETWORK and c.entry_point != ACCOUNT_BUDGET
    ]


def no_account_counters() -> bool:
    """Deactivation keeps nothing per account: the only counters are those of
    the scopes the lockout method counts, the networks', and the account
    budgets' (one per existing account attacked, `account_budget`)."""
    from wagtail_loginlimit import storage
    from wagtail_loginlimit.clients import (
        ACCOUNT_BUDGET,
        SCOPE_NETWORK,
        SCOPES_BY_METHOD,
    )
    from wagtail_loginlimit.conf import get_config

    config = get_config()
    counted = set(SCOPES_BY_METHOD[config.lockout_method])
    if config.network_retries:
        counted.add(SCOPE_NETWORK)
    return {
        counter.scope
        for counter in storage.counters()
        if counter.entry_point != ACCOUNT_BUDGET
    } <= counted
