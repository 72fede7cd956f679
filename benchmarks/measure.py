"""Timing helpers: warm up, repeat, take the median (robust to the odd slow run
that a garbage collection or another process causes)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any


def time_once(action: Callable[[], Any]) -> float:
    """Seconds that one call of `action` took."""
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def median_time(
    action: Callable[[], Any],
    repeat: int,
    warmup: int = 1,
    setup: Callable[[], Any] | None = None,
) -> float:
    """Median seconds of `repeat` calls after `warmup` unmeasured ones; `setup`
    (unmeasured) runs before each call."""
    samples = []
    for index in range(warmup + repeat):
        if setup is not None:
            setup()
        elapsed = time_once(action)
        if index >= warmup:
            samples.append(elapsed)
    return statistics.median(samples)


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else float("inf")


def paired_medians(
    first: Callable[[], Any], second: Callable[[], Any], repeat: int, warmup: int = 1
) -> tuple[float, float, float]:
    """Median seconds of each action and the median of their ratio within a
    round (first / second), the order swapped every round. On a machine whose
    speed drifts (a shared VM), a ratio taken within one round is steadier
    than the ratio of two medians."""
    times: tuple[list[float], list[float]] = ([], [])
    ratios: list[float] = []
    for index in range(warmup + repeat):
        if index % 2 == 0:
            a, b = time_once(first), time_once(second)
        else:
            b, a = time_once(second), time_once(first)
        if index >= warmup:
            times[0].append(a)
            times[1].append(b)
            ratios.append(ratio(a, b))
    return (
        statistics.median(times[0]),
        statistics.median(times[1]),
        statistics.median(ratios),
    )
