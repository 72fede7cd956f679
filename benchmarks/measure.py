"""Timing helpers: warm up, repeat, take the median (robust to the odd slow run
that a garbage collection or another process causes)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
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


def interleaved_medians(
    actions: Sequence[Callable[[], Any]], repeat: int, warmup: int = 1
) -> list[float]:
    """Median seconds of each action, timed in turns (A, B, A, B, …) so that a
    slow spell of the machine hits all of them alike."""
    samples: list[list[float]] = [[] for _ in actions]
    for index in range(warmup + repeat):
        for action, bucket in zip(actions, samples, strict=True):
            elapsed = time_once(action)
            if index >= warmup:
                bucket.append(elapsed)
    return [statistics.median(bucket) for bucket in samples]


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator else float("inf")
