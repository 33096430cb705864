"""Retry budget: retries may be at most a fraction of recent calls (Envoy `retry_budget`,
Finagle `RetryBudget`, gRPC `retryThrottling`), with a floor so quiet services can still retry.

Hand-written (tenacity has no budget). Over the last `ttl` seconds (one-second buckets on the
injected monotonic clock), a retry is allowed while
    retries + 1 <= max(budget_percent% of first attempts, min_retries_per_second * ttl).
A budget is usually shared by every `Retry` policy that calls the same provider, so a failing
provider cannot multiply its load by the attempt count.
"""

from __future__ import annotations

import math

from resilience.clock import Clock, system_clock


class RetryBudget:
    """Counts first attempts and retries in a sliding `ttl`-second window."""

    def __init__(
        self,
        *,
        budget_percent: float = 20.0,
        min_retries_per_second: float = 1.0,
        ttl: int = 10,
        clock: Clock | None = None,
    ) -> None:
        if budget_percent < 0 or min_retries_per_second < 0 or ttl < 1:
            raise ValueError("budget_percent, min_retries_per_second >= 0 and ttl >= 1")
        self._ratio = budget_percent / 100.0
        self._floor = min_retries_per_second * ttl
        self._clock = clock or system_clock()
        self._calls = [0] * ttl
        self._retries = [0] * ttl
        self._latest = -math.inf
        self.calls = 0
        self.retries = 0

    def _advance(self) -> int:
        second = math.floor(self._clock.monotonic())
        if second > self._latest:
            size = len(self._calls)
            start = second - size + 1 if second - self._latest >= size else int(self._latest) + 1
            for s in range(start, second + 1):
                slot = s % size
                self.calls -= self._calls[slot]
                self.retries -= self._retries[slot]
                self._calls[slot] = self._retries[slot] = 0
            self._latest = second
        return second % len(self._calls)

    def record_call(self) -> None:
        """A first attempt was made (it earns `budget_percent` of a retry)."""
        slot = self._advance()
        self._calls[slot] += 1
        self.calls += 1

    def allowance(self) -> float:
        """How many retries the window allows in total right now."""
        self._advance()
        return max(self.calls * self._ratio, self._floor)

    def try_spend(self) -> bool:
        """Take one retry from the budget; False (and nothing taken) when it is spent."""
        if self.retries + 1 > self.allowance():
            return False
        self._retries[self._advance()] += 1
        self.retries += 1
        return True
