"""Per-provider call statistics: totals since start and latency over a bounded window.

Also feeds the shared Prometheus metrics (argo_data_source_*), so the numbers an operator
scrapes and the ones GetProviderStatus returns come from the same measurements. Only calls
that went upstream count: a call refused by the breaker or the limiter is not one.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Awaitable
from typing import TypeVar

from opentelemetry import trace

from market_gateway.domain import ProviderUnavailable, RateLimited, UnknownSymbol
from market_gateway.ports import Clock
from observability.metrics import DATA_SOURCE_LATENCY, DATA_SOURCE_REQUESTS, DATA_SOURCE_STATUS

LATENCY_WINDOW = 1024
_MAX_ERROR_CHARS = 300
T = TypeVar("T")
tracer = trace.get_tracer(__name__)


class ProviderStats:
    def __init__(self, name: str, clock: Clock, *, window: int = LATENCY_WINDOW) -> None:
        self.name = name
        self.calls_total = 0
        self.errors_total = 0
        self.last_error = ""
        self._clock = clock
        self._latencies: deque[float] = deque(maxlen=window)

    async def call(
        self,
        operation: str,
        call: Awaitable[T],
        *,
        cost_usd: float = 0.0,
        within: float | None = None,
    ) -> T:
        """Await one upstream call in a span, at most `within` seconds, timing it and
        recording the outcome (a timeout is a failed call)."""
        started = self._clock.monotonic()
        attributes: dict[str, str | float] = {
            "provider": self.name,
            "operation": operation,
            "argo.cost_usd": cost_usd,
        }
        with tracer.start_as_current_span(f"{self.name}.{operation}", attributes=attributes):
            try:
                async with asyncio.timeout(within):
                    result = await call
            except UnknownSymbol:  # an answer, not a failure of the provider
                self.record(self._clock.monotonic() - started)
                raise
            except ProviderUnavailable as e:
                elapsed = self._clock.monotonic() - started
                self.record(elapsed, error=str(e), rate_limited=isinstance(e, RateLimited))
                raise
            except asyncio.CancelledError:  # a hedge's loser: the request went out all the same
                self.calls_total += 1
                DATA_SOURCE_REQUESTS.labels(source=self.name, status="cancelled").inc()
                raise
            except TimeoutError:
                self.record(self._clock.monotonic() - started, error="no answer in time")
                raise
            except Exception as e:
                self.record(self._clock.monotonic() - started, error=repr(e))
                raise
        self.record(self._clock.monotonic() - started)
        return result

    def record(
        self, seconds: float, *, error: str | None = None, rate_limited: bool = False
    ) -> None:
        """One upstream call that took `seconds`; `error` is set when it failed."""
        self.calls_total += 1
        self._latencies.append(seconds)
        DATA_SOURCE_LATENCY.labels(source=self.name).observe(seconds)
        if error is None:
            DATA_SOURCE_REQUESTS.labels(source=self.name, status="ok").inc()
            return
        self.errors_total += 1
        self.last_error = error[:_MAX_ERROR_CHARS]
        status = "rate_limited" if rate_limited else "error"
        DATA_SOURCE_REQUESTS.labels(source=self.name, status=status).inc()

    def set_usable(self, usable: bool) -> None:
        DATA_SOURCE_STATUS.labels(source=self.name).set(1 if usable else 0)

    def latency_ms(self, quantile: float) -> float:
        """Nearest-rank quantile of the recent window in milliseconds; 0 with no calls."""
        if not self._latencies:
            return 0.0
        ordered = sorted(self._latencies)
        rank = max(math.ceil(quantile * len(ordered)) - 1, 0)
        return ordered[rank] * 1000.0

    def mean_latency_ms(self) -> float:
        if not self._latencies:
            return 0.0
        return sum(self._latencies) / len(self._latencies) * 1000.0
