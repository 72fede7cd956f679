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

    def post(username, password="wrong", ip="203.0.113.7", path="/admin/login/", **extra):
        return client.post(
            path,
            {"username": username, "password": password},
            REMOTE_ADDR=ip,
            **extra,
        )

    return post
