"""The sandbox as shipped: wagtail-loginlimit on django-axes."""

from benchmarks.settings.common import *  # noqa: F403
