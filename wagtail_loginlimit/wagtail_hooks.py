"""Wagtail reads this module for hooks; they live in `admin_wiring`. The
screens list django-axes' failure log, so without `axes` in INSTALLED_APPS
nothing is wired, and `manage.py check` says what to add
(wagtail_loginlimit.E002) instead of failing on axes' models."""

from django.apps import apps

if apps.is_installed("axes"):
    from . import admin_wiring  # noqa: F401  (registers the hooks)
