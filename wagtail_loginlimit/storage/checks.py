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
    """E020: the cache store on a cache that is not Redis; E021: a
    `cache_alias` that does not exist, whatever the store (the challenge's
    used answers and attack mode's counts are kept there too)."""
    if code_settings(report=False).turned_off:
        return []
    in_cache = code_value("store", report=False) == "cache"
    alias = code_value("cache_alias", report=False)
    caches_setting = getattr(settings, "CACHES", {}) or {}
    if alias not in caches_setting:
        kind = "a Redis cache" if in_cache else "a cache"
        return [
            checks.Error(
                f"{SETTING_NAME}['cache_alias'] is {alias!r}, which is not in CACHES.",
                hint=f"Add {kind} named {alias!r} to CACHES, or set "
                "'cache_alias' to the name of one.",
                obj=SETTING_NAME,
                id="wagtail_loginlimit.E021",
            )
        ]
    if not in_cache:
        return []
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
