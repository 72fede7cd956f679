"""System checks of the store settings: E020, E021."""

from __future__ import annotations

from django.conf import settings
from django.core import checks
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured

from ..code_settings import SETTING_NAME, code_settings, code_value
from .cache import redis_client


@checks.register(checks.Tags.caches, checks.Tags.security)
def check_store(app_configs=None, **kwargs):
    """E020: the cache store on a cache that is not Redis; E021: on a cache
    that does not exist."""
    if code_settings(report=False).turned_off or (
        code_value("store", report=False) != "cache"
    ):
        return []
    alias = code_value("cache_alias", report=False)
    caches_setting = getattr(settings, "CACHES", {}) or {}
    if alias not in caches_setting:
        return [
            checks.Error(
                f"{SETTING_NAME}['cache_alias'] is {alias!r}, which is not in CACHES.",
                hint=f"Add a Redis cache named {alias!r} to CACHES, or set "
                "'cache_alias' to the name of one.",
                obj=SETTING_NAME,
                id="wagtail_loginlimit.E021",
            )
        ]
    backend = caches_setting[alias].get("BACKEND", "")
    try:
        redis_client(caches[alias])
    except (ImproperlyConfigured, ImportError) as error:
        return [
            checks.Error(
                f"The login counters cannot be kept in cache {alias!r} ({backend}): "
                f"{error} Counters must be shared by every process and server and "
                "changed atomically, which only Redis does here.",
                hint="Use django.core.cache.backends.redis.RedisCache or "
                "django_redis.cache.RedisCache (not sharded) for this cache, or "
                f"set {SETTING_NAME}['store'] to 'database'.",
                obj=SETTING_NAME,
                id="wagtail_loginlimit.E020",
            )
        ]
    return []
