"""Brute-force protection for every login of a Wagtail site, on top of django-axes."""

__version__ = "0.1.0"
