"""Benchmarks of wagtail-loginlimit: `python -m benchmarks` (see docs/benchmarks.md)."""
