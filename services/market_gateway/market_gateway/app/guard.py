"""One provider behind its policies: breaker -> limiter -> the call, within the deadline.

Every upstream call of the gateway goes through its provider's guard:
- the circuit breaker (seed defaults: open after 5 failures in a row, 2 successes close it,
  60 s open) refuses at once while open — the caller fails over to the next provider;
- the rate limiter (per provider x credential; in Redis when REDIS_URL is set, so every
  replica shares one ledger) takes a permit per upstream request, waiting at most
  `resilience.limiter_max_wait_seconds` and never past the caller's deadline;
- the call runs in a span with its cost (`argo.cost_usd`), timed into the provider's stats,
  bounded by the deadline;
- a provider's pushback (429 with Retry-After / X-RateLimit-*, Alpha Vantage's "Note") pauses
  the limiter key until then, for every replica: later calls are refused locally.
A provider 429 and an unknown symbol do not count as breaker failures; timeouts, outages,
bad bodies and refused credentials do. Local refusals come out as the domain's errors:
`RateLimited` (quota spent or provider pause, with the wait), `ProviderUnavailable`
(circuit open, no answer before the deadline).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from market_gateway.app.cost_ledger import CostLedger
from market_gateway.app.deadline import call_deadline, seconds_left
from market_gateway.app.provider_stats import ProviderStats
from market_gateway.domain import (
    BreakerState,
    ProviderStatus,
    ProviderUnavailable,
    QuotaSettings,
    RateLimited,
    ResilienceSettings,
    UnknownSymbol,
)
from market_gateway.ports import Clock
from resilience.breaker import BreakerTransition, CircuitBreaker
from resilience.breaker_config import BreakerConfig, ignore_local_rejections
from resilience.breaker_config import BreakerState as CircuitState
from resilience.errors import CircuitOpen, DeadlineExceeded
from resilience.errors import RateLimited as LimiterRefused
from resilience.limiter import RateLimiter
from resilience.quota import LimitKey, Quota, Window
from resilience.retry import Retry, default_is_retryable
from resilience.retry_budget import RetryBudget

T = TypeVar("T")
DAY = 86_400.0
_STATES = {
    CircuitState.CLOSED: BreakerState.CLOSED,
    CircuitState.OPEN: BreakerState.OPEN,
    CircuitState.HALF_OPEN: BreakerState.HALF_OPEN,
}


def quota_of(settings: QuotaSettings) -> Quota:
    """The limiter windows a provider's quota settings describe (none: unlimited)."""
    windows: list[Window] = []
    if settings.rate_per_second > 0:
        windows.append(Window.rate(settings.rate_per_second, burst=max(settings.burst, 1.0)))
    if settings.per_minute > 0:
        windows.append(Window.fixed(settings.per_minute, 60.0))
    if settings.per_day > 0:
        windows.append(Window.fixed(settings.per_day, DAY))
    return Quota(tuple(windows))


def breaker_config(settings: ResilienceSettings) -> BreakerConfig:
    return BreakerConfig.consecutive(
        failure_threshold=settings.breaker_failure_threshold,
        success_threshold=settings.breaker_success_threshold,
        wait_duration_in_open_state=settings.breaker_open_seconds,
        ignore_exception=_ignored,
        record_exception=_recorded,
    )


def _ignored(error: BaseException) -> bool:
    """Quota refusals (ours or the provider's) say nothing about the provider's health."""
    return ignore_local_rejections(error) or isinstance(error, RateLimited)


def _recorded(error: BaseException) -> bool:
    return not isinstance(error, UnknownSymbol)


def _retryable(error: BaseException) -> bool:
    """Retry the same provider only for transient failures; quota refusals fail over."""
    if isinstance(error, LimiterRefused | RateLimited):
        return False
    return default_is_retryable(error)


class ProviderGuard:
    def __init__(
        self,
        name: str,
        *,
        clock: Clock,
        limiter: RateLimiter,
        ledger: CostLedger,
        settings: ResilienceSettings,
        credential: str = "default",
    ) -> None:
        self.name = name
        self.key = LimitKey(name, credential)
        self.stats = ProviderStats(name, clock)
        self._clock = clock
        self._limiter = limiter
        self._ledger = ledger
        self._settings = settings
        self._breaker = self._new_breaker(settings)
        self._retry = self._new_retry(settings)

    def apply(self, settings: ResilienceSettings) -> None:
        """New settings; a changed breaker configuration starts a fresh (closed) breaker."""
        if breaker_config(settings) != breaker_config(self._settings):
            self._breaker = self._new_breaker(settings)
        if settings.retry_attempts != self._settings.retry_attempts:
            self._retry = self._new_retry(settings)
        self._settings = settings

    @property
    def breaker_state(self) -> BreakerState:
        return _STATES[self._breaker.state]

    async def call(
        self,
        operation: str,
        fn: Callable[[], Awaitable[T]],
        *,
        requests: int = 1,
        max_wait: float | None = None,
    ) -> T:
        """Run `fn` (which makes `requests` upstream requests) through breaker and limiter.

        Raises the domain's `RateLimited` / `ProviderUnavailable` when refused locally or
        out of time, and whatever the call raises (the classified `ProviderUnavailable`
        family, `UnknownSymbol`).
        """
        deadline = call_deadline(self._clock, self._settings.upstream_timeout_seconds)
        wait = self._settings.limiter_max_wait_seconds if max_wait is None else max_wait
        cost = float(min(requests, self._limiter.quota_for(self.key).max_cost))

        async def attempt() -> T:
            await self._limiter.acquire(
                self.key, cost, min(wait, seconds_left(self._clock, deadline))
            )
            spent = self._ledger.record_calls(self.name, requests)
            left = _finite(seconds_left(self._clock, deadline))
            try:
                return await self.stats.call(operation, fn(), cost_usd=spent, within=left)
            except RateLimited as e:
                await self._pushback(e)
                raise

        try:
            if self._retry is None:
                return await self._breaker.execute(attempt)
            return await self._retry.execute(
                lambda: self._breaker.execute(attempt), deadline=deadline
            )
        except LimiterRefused as e:
            reason = "paused by the provider" if e.paused else "quota spent"
            raise RateLimited(
                f"{self.name}: {reason}, next permit in {e.retry_after:.3f}s",
                retry_after=e.retry_after,
                provider=self.name,
            ) from None
        except CircuitOpen as e:
            hint = f"; retry in {e.retry_after:.0f}s" if e.retry_after else ""
            raise ProviderUnavailable(
                f"{self.name}: circuit open after repeated failures{hint}", provider=self.name
            ) from None
        except (TimeoutError, DeadlineExceeded):
            raise ProviderUnavailable(
                f"{self.name}: no answer before the deadline", provider=self.name
            ) from None

    async def status(self, *, enabled: bool) -> ProviderStatus:
        totals = self._ledger.totals(self.name)
        return ProviderStatus(
            name=self.name,
            enabled=enabled,
            breaker_state=self.breaker_state if enabled else BreakerState.DISABLED,
            limiter_remaining=await self.permits_left(),
            latency_p50_ms=self.stats.latency_ms(0.50),
            latency_p99_ms=self.stats.latency_ms(0.99),
            calls_total=self.stats.calls_total,
            errors_total=self.stats.errors_total,
            cost_usd_total=totals.cost_usd,
            last_error=self.stats.last_error,
            paused_until=await self._limiter.paused_until(self.key),
        )

    async def permits_left(self) -> float:
        """Whole permits available right now (at most a burst); -1 when unlimited."""
        quota = self._limiter.quota_for(self.key)
        if not quota.windows:
            return -1.0
        low, high = 0, int(quota.max_cost)
        while low < high:  # largest cost that would be granted without waiting
            middle = (low + high + 1) // 2
            if await self._limiter.wait_time(self.key, float(middle)) <= 0.0:
                low = middle
            else:
                high = middle - 1
        return float(low)

    async def _pushback(self, error: RateLimited) -> None:
        until = self._clock.now() + timedelta(seconds=error.retry_after)
        await self._limiter.pause(self.key, until, source="provider")

    def _new_breaker(self, settings: ResilienceSettings) -> CircuitBreaker:
        breaker = CircuitBreaker(
            f"provider:{self.name}", breaker_config(settings), clock=self._clock
        )
        breaker.add_listener(self._on_transition)
        self.stats.set_usable(True)
        return breaker

    def _new_retry(self, settings: ResilienceSettings) -> Retry | None:
        if settings.retry_attempts <= 1:
            return None
        budget = RetryBudget(budget_percent=20.0, min_retries_per_second=1.0, clock=self._clock)
        return Retry(
            f"provider:{self.name}",
            max_attempts=settings.retry_attempts,
            is_retryable=_retryable,
            budget=budget,
            clock=self._clock,
        )

    def _on_transition(self, event: BreakerTransition) -> None:
        self.stats.set_usable(event.to_state is not CircuitState.OPEN)


def _finite(seconds: float) -> float | None:
    return None if seconds == float("inf") else seconds
