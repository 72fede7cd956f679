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
