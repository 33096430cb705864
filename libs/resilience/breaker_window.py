"""Sliding windows of call outcomes for the circuit breaker (resilience4j's two kinds).

Hand-written, O(1) per call: `CountWindow` is a ring of the last N outcomes
(FixedSizeSlidingWindowMetrics), `TimeWindow` is N one-second buckets on the injected
monotonic clock (SlidingTimeWindowMetrics), both keeping running totals of calls, failures
and slow calls so the rates cost no scan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

# Outcome codes: bit 0 = failed, bit 1 = slow.
SUCCESS, FAILURE, SLOW_SUCCESS, SLOW_FAILURE = 0, 1, 2, 3


@dataclass(slots=True)
class Totals:
    calls: int = 0
    failures: int = 0
    slow: int = 0

    def add(self, outcome: int, sign: int = 1) -> None:
        self.calls += sign
        self.failures += sign * (outcome & 1)
        self.slow += sign * (outcome >> 1)

    @property
    def failure_rate(self) -> float:
        return 100.0 * self.failures / self.calls if self.calls else 0.0

    @property
    def slow_call_rate(self) -> float:
        return 100.0 * self.slow / self.calls if self.calls else 0.0


class CountWindow:
    """The last `size` recorded outcomes."""

    def __init__(self, size: int) -> None:
        self._ring: list[int | None] = [None] * size
        self._next = 0
        self.totals = Totals()

    def record(self, outcome: int, now: float) -> Totals:
        evicted = self._ring[self._next]
        if evicted is not None:
            self.totals.add(evicted, -1)
        self._ring[self._next] = outcome
        self._next = (self._next + 1) % len(self._ring)
        self.totals.add(outcome)
        return self.totals

    def snapshot(self, now: float) -> Totals:
        return self.totals


class TimeWindow:
    """Outcomes of the last `seconds` whole seconds (epoch-second buckets, like resilience4j)."""

    def __init__(self, seconds: int) -> None:
        self._buckets = [Totals() for _ in range(seconds)]
        self._latest = -math.inf
        self.totals = Totals()

    def _advance(self, now: float) -> None:
        second = math.floor(now)
        if second <= self._latest:
            return
        size = len(self._buckets)
        start = second - size + 1 if second - self._latest >= size else int(self._latest) + 1
        for s in range(start, second + 1):
            bucket = self._buckets[s % size]
            self.totals.calls -= bucket.calls
            self.totals.failures -= bucket.failures
            self.totals.slow -= bucket.slow
            bucket.calls = bucket.failures = bucket.slow = 0
        self._latest = second

    def record(self, outcome: int, now: float) -> Totals:
        self._advance(now)
        self._buckets[math.floor(now) % len(self._buckets)].add(outcome)
        self.totals.add(outcome)
        return self.totals

    def snapshot(self, now: float) -> Totals:
        self._advance(now)
        return self.totals
