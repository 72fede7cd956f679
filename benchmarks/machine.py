"""What the benchmark ran on, printed above its table."""

from __future__ import annotations

import os
import platform
from importlib import metadata


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as file:
            for line in file:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory() -> str:
    try:
        with open("/proc/meminfo", encoding="utf-8") as file:
            for line in file:
                if line.startswith("MemTotal:"):
                    return f"{int(line.split()[1]) / 1024 / 1024:.0f} GiB"
    except OSError:
        pass
    return "unknown"


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def load() -> str:
    """The load average: other work on the machine slows every number down."""
    try:
        return ", ".join(f"{value:.2f}" for value in os.getloadavg())
    except OSError:
        return "unknown"


def describe(databases: list[str], load_at_start: str) -> list[tuple[str, str]]:
    return [
        ("CPU", f"{cpu_model()}, {cores()} cores usable"),
        ("Memory", memory()),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Python", platform.python_version()),
        ("Django", _version("Django")),
        ("Wagtail", _version("wagtail")),
        ("django-axes", _version("django-axes")),
        ("wagtail-loginlimit", _version("wagtail-loginlimit")),
        ("gunicorn", _version("gunicorn")),
        ("Databases", ", ".join(databases)),
        ("Load average", f"{load_at_start} at the start (1, 5, 15 min)"),
    ]
