"""Retry with exponential backoff and full jitter, a retry budget, and deadline awareness.

Composed from tenacity where it fits: the backoff is any tenacity wait strategy (default
`wait_random_exponential`, i.e. AWS "full jitter": uniform(0, min(max, multiplier*2^n))) and
an optional extra tenacity stop strategy, both evaluated on a `RetryCallState` whose times
come from the injected clock. The loop itself is hand-written, because tenacity's
`AsyncRetrying` cannot (a) honour a caller deadline by giving up instead of sleeping past it,
(b) spend from a shared `RetryBudget`, (c) take the server's `retry_after` as a floor for the
sleep, or (d) run a first successful attempt with near-zero overhead.

Only errors `is_retryable` accepts are retried (default: see `default_is_retryable`). When a
retry is refused the *original* error propagates, and the reason is counted in
`argo_resilience_retries_total{outcome}` and added as a span event.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from prometheus_client import Counter
from tenacity import AsyncRetrying, RetryCallState
from tenacity import Future as AttemptOutcome
from tenacity.stop import stop_base
from tenacity.wait import wait_base, wait_random_exponential

from resilience.clock import Clock, remaining, system_clock
from resilience.errors import CircuitOpen, DeadlineExceeded, RateLimited, retry_after_of
from resilience.metrics import RETRIES, span_event
from resilience.pipeline import CallContext, T
from resilience.retry_budget import RetryBudget

_TENACITY = AsyncRetrying()  # only the owner object a RetryCallState requires; never run
_OUTCOMES = (
    "retried",
    "gave_up_deadline",
    "gave_up_budget",
    "gave_up_attempts",
    "gave_up_retry_after",
    "not_retryable",
)


def default_is_retryable(error: BaseException) -> bool:
    """An explicit `retryable` attribute wins; else rate limits, timeouts, connection errors."""
    explicit = getattr(error, "retryable", None)
    if isinstance(explicit, bool):
        return explicit
    if isinstance(error, CircuitOpen | DeadlineExceeded):
        return False
    return isinstance(error, RateLimited | TimeoutError | ConnectionError)


class Retry:
    """A retry policy; share one `RetryBudget` between the policies of one provider."""

    def __init__(
        self,
        name: str = "retry",
        *,
        max_attempts: int = 3,
        wait: wait_base | None = None,
        stop: stop_base | None = None,
        is_retryable: Callable[[BaseException], bool] = default_is_retryable,
        budget: RetryBudget | None = None,
        max_retry_after: float = 30.0,
        clock: Clock | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        self.name = name
        self._max_attempts = max_attempts
        self._wait = wait or wait_random_exponential(multiplier=0.1, max=5.0)
        self._stop = stop
        self._is_retryable = is_retryable
        self._budget = budget
        self._max_retry_after = max_retry_after
        self._clock = clock or system_clock()
        self._counters: dict[str, Counter] = {o: RETRIES.labels(name, o) for o in _OUTCOMES}

    async def execute(self, fn: Callable[[], Awaitable[T]], *, deadline: float | None = None) -> T:
        """Call `fn` until it succeeds or a retry is refused; `deadline` is monotonic."""
        return await self.run(fn, CallContext(deadline=deadline))

    async def run(self, call: Callable[[], Awaitable[T]], ctx: CallContext) -> T:
        """Pipeline step; sets `ctx.attempt` for the policies inside."""
        if self._budget is not None:
            self._budget.record_call()
        state: RetryCallState | None = None
        attempt = ctx.attempt = 1
        while True:
            try:
                return await call()
            except Exception as error:
                if state is None:
                    state = RetryCallState(_TENACITY, None, (), {})
                    state.start_time = self._clock.monotonic()
                delay = self._next_delay(error, attempt, state, ctx.deadline)
                if delay is None:
                    raise
            await self._clock.sleep(delay)
            state.idle_for += delay
            state.prepare_for_next_attempt()
            attempt = ctx.attempt = attempt + 1

    def _next_delay(
        self, error: Exception, attempt: int, state: RetryCallState, deadline: float | None
    ) -> float | None:
        """Seconds to sleep before the next attempt, or None to give up (reason counted)."""
        if not self._is_retryable(error):
            self._give_up("not_retryable", error, attempt)
            return None
        state.attempt_number = attempt
        state.outcome = AttemptOutcome.construct(attempt, error, True)
        state.outcome_timestamp = self._clock.monotonic()
        if attempt >= self._max_attempts or (self._stop is not None and self._stop(state)):
            self._give_up("gave_up_attempts", error, attempt)
            return None
        delay = self._wait(state)
        hint = retry_after_of(error)
        if hint is not None:
            if hint > self._max_retry_after:
                self._give_up("gave_up_retry_after", error, attempt)
                return None
            delay = max(delay, hint)
        state.upcoming_sleep = delay
        if delay >= remaining(self._clock, deadline):
            self._give_up("gave_up_deadline", error, attempt)
            return None
        if self._budget is not None and not self._budget.try_spend():
            self._give_up("gave_up_budget", error, attempt)
            return None
        self._counters["retried"].inc()
        span_event(
            "retry",
            {
                "policy": self.name,
                "attempt": attempt,
                "delay_s": delay,
                "error": type(error).__name__,
            },
        )
        return delay

    def _give_up(self, outcome: str, error: Exception, attempt: int) -> None:
        self._counters[outcome].inc()
        span_event(
            "retry_gave_up",
            {
                "policy": self.name,
                "reason": outcome,
                "attempt": attempt,
                "error": type(error).__name__,
            },
        )
