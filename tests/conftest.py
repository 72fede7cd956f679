from datetime import UTC, datetime, timedelta

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

    return f"login-limit store: {getattr(django_settings, 'TEST_STORE', 'sqlite')}"


def pytest_collection_modifyitems(config, items):
    """LOGINLIMIT_TEST_STORE names a server that is not installed (outside CI):
    skip everything, saying why, rather than test another store silently."""
    from django.conf import settings as django_settings

    reason = getattr(django_settings, "TEST_STORE_SKIP", "")
    if reason:
        for item in items:
            item.add_marker(pytest.mark.skip(reason=reason))
        return
    if getattr(django_settings, "TEST_STORE", "sqlite") == "redis":
        for item in items:
            if item.nodeid.split("[")[0] in READS_DATABASE_COUNTERS:
                item.add_marker(pytest.mark.skip(reason=DATABASE_COUNTERS_REASON))


# Tests that read the database store's `FailureCounter` rows directly (or, for
# purge, count them). With the cache store those rows do not exist; each test
# taken off this list once it reads `wagtail_loginlimit.storage.counters()`
# instead runs on Redis as well.
DATABASE_COUNTERS_REASON = (
    "reads the database store's FailureCounter rows; on Redis the counters are "
    "read with storage.counters()"
)
READS_DATABASE_COUNTERS = frozenset(
    f"tests/{test}"
    for test in (
        "test_axes_gaps.py::test_long_usernames_with_the_same_prefix_are_counted_apart",
        "test_commands.py::test_purge_deletes_only_what_is_older_than_the_days",
        "test_commands.py::test_purge_dry_run_deletes_nothing",
        "test_commands.py::test_purge_keeps_what_the_valid_window_still_counts",
        "test_hostile_input.py::test_a_1mb_password_is_counted",
        "test_hostile_input.py::test_a_1mb_username_is_counted_and_clipped",
        "test_hostile_input.py::test_a_huge_username_is_not_unicode_normalized",
        "test_hostile_input.py::test_a_username_given_twice_counts_the_one_django_checks",
        "test_hostile_input.py::test_an_unusable_peer_address_is_counted_as_unknown",
        "test_hostile_input.py::test_anything_at_the_login_pages_is_counted_or_refused",
        "test_hostile_input.py::test_anything_at_the_login_pages_with_a_lockout_method_by_username",
        "test_hostile_input.py::test_case_and_width_variants_count_as_one_username",
        "test_hostile_input.py::test_forwarded_for_garbage_behind_nginx_counts_the_client",
        "test_hostile_input.py::test_forwarded_for_garbage_is_ignored",
        "test_hostile_input.py::test_invalid_utf8_in_multipart_is_counted",
        "test_hostile_input.py::test_invalid_utf8_is_counted",
        "test_hostile_input.py::test_look_alikes_from_other_scripts_are_other_usernames",
        "test_hostile_input.py::test_nul_bytes_passed_straight_to_authenticate_are_counted",
        "test_hostile_input.py::test_unusable_peer_addresses_share_one_count",
        "test_lockout_methods.py::test_each_method_keeps_one_counter_per_client",
        "test_lockout_methods.py::test_successful_login_resets_the_count",
        "test_proxies.py::test_behind_nginx_a_forged_leftmost_entry_is_not_counted",
        "test_proxies.py::test_behind_nginx_a_login_resets_the_clients_own_count",
        "test_proxies.py::test_behind_nginx_in_strict_mode_forgers_cannot_choose_either",
        "test_proxies.py::test_behind_nginx_rotating_forged_entries_do_not_escape_a_lockout",
        "test_proxies.py::test_behind_nginx_the_client_address_is_counted",
        "test_proxies.py::test_behind_two_proxies_the_client_address_is_counted",
        "test_proxies.py::test_forwarding_headers_are_ignored_by_default",
        "test_proxies.py::test_proxy_count_one_behind_a_single_nginx_is_the_pitfall",
        "test_proxies.py::test_rotating_forwarded_for_does_not_escape_a_lockout",
        "test_proxies.py::test_the_header_without_a_count_or_list_is_the_other_pitfall",
        "test_proxies.py::test_trusted_ips_name_one_hop_each_so_parallel_balancers_need_a_range",
        "test_proxies.py::test_with_trusted_ips_a_request_that_bypassed_the_load_balancer_cannot_choose",
    )
)


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
