"""Circuit breaker configuration in resilience4j's vocabulary (plus a consecutive mode).

Hand-written: pybreaker (consecutive failures only, no asyncio release), aiobreaker (stale)
and purgatory (threshold + ttl) lack resilience4j's sliding windows, slow-call rate and
half-open permits; resilience4j itself is JVM, so it is the spec, not a dependency.

Options mean what they mean in resilience4j (durations in seconds, rates in percent):
`sliding_window_type` COUNT_BASED (last N calls) or TIME_BASED (last N seconds),
`sliding_window_size`, `minimum_number_of_calls`, `failure_rate_threshold`,
`slow_call_duration_threshold` (a call slower than this is slow), `slow_call_rate_threshold`,
`wait_duration_in_open_state`, growing by `wait_duration_multiplier` on each consecutive trip
up to `max_wait_duration_in_open_state` (resilience4j's exponential wait interval function),
`permitted_number_of_calls_in_half_open_state`, and `record_exception` / `ignore_exception`
predicates (ignored: counts as neither; not recorded: counts as a success). By default every
exception is recorded except this library's own refusals (`RateLimited`, `CircuitOpen`,
`DeadlineExceeded`), which are ignored: a breaker wrapping a limiter must not open because
the *local* quota is spent.

CONSECUTIVE (pybreaker and the seeds' vocabulary): open after `failure_threshold` recorded
failures in a row; in half-open, any failure re-opens and `success_threshold` successes close.
`BreakerConfig.consecutive()` builds the seeds' defaults (5 failures, 2 successes, 60 s).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from resilience.errors import CircuitOpen, DeadlineExceeded, RateLimited


class SlidingWindowType(StrEnum):
    COUNT_BASED = "COUNT_BASED"
    TIME_BASED = "TIME_BASED"
    CONSECUTIVE = "CONSECUTIVE"


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


def record_all(_: BaseException) -> bool:
    return True


def ignore_local_rejections(error: BaseException) -> bool:
    """Our own policies' refusals (limiter, another breaker, deadline) say nothing about the
    upstream's health, so by default they count neither as success nor as failure."""
    return isinstance(error, RateLimited | CircuitOpen | DeadlineExceeded)


@dataclass(frozen=True, slots=True)
class BreakerConfig:
    """resilience4j defaults unless stated; see the module docstring for each option."""

    sliding_window_type: SlidingWindowType = SlidingWindowType.COUNT_BASED
    sliding_window_size: int = 100
    minimum_number_of_calls: int = 100
    failure_rate_threshold: float = 50.0
    slow_call_duration_threshold: float = 60.0
    slow_call_rate_threshold: float = 100.0
    wait_duration_in_open_state: float = 60.0
    wait_duration_multiplier: float = 1.0
    max_wait_duration_in_open_state: float | None = None
    permitted_number_of_calls_in_half_open_state: int = 10
    failure_threshold: int = 5
    success_threshold: int = 2
    record_exception: Callable[[BaseException], bool] = record_all
    ignore_exception: Callable[[BaseException], bool] = ignore_local_rejections

    def __post_init__(self) -> None:
        if self.sliding_window_size < 1 or self.minimum_number_of_calls < 1:
            raise ValueError("sliding_window_size and minimum_number_of_calls must be >= 1")
        for name in ("failure_rate_threshold", "slow_call_rate_threshold"):
            if not 0 < getattr(self, name) <= 100:
                raise ValueError(f"{name} must be in (0, 100]")
        if self.wait_duration_in_open_state < 0 or self.wait_duration_multiplier < 1:
            raise ValueError("wait_duration_in_open_state >= 0 and wait_duration_multiplier >= 1")
        if self.permitted_number_of_calls_in_half_open_state < 1:
            raise ValueError("permitted_number_of_calls_in_half_open_state must be >= 1")
        if self.failure_threshold < 1 or self.success_threshold < 1:
            raise ValueError("failure_threshold and success_threshold must be >= 1")
        consecutive = self.sliding_window_type is SlidingWindowType.CONSECUTIVE
        if (
            consecutive
            and self.success_threshold > self.permitted_number_of_calls_in_half_open_state
        ):
            raise ValueError("success_threshold cannot exceed the permitted half-open calls")

    @classmethod
    def consecutive(
        cls,
        failure_threshold: int = 5,
        success_threshold: int = 2,
        wait_duration_in_open_state: float = 60.0,
        **options: object,
    ) -> BreakerConfig:
        """The seeds' breaker: open after 5 failures, close after 2 successes, retry after 60 s."""
        params: dict[str, object] = {
            "sliding_window_type": SlidingWindowType.CONSECUTIVE,
            "failure_threshold": failure_threshold,
            "success_threshold": success_threshold,
            "permitted_number_of_calls_in_half_open_state": success_threshold,
            "wait_duration_in_open_state": wait_duration_in_open_state,
        }
        params.update(options)
        return cls(**params)  # type: ignore[arg-type]

    def open_wait(self, consecutive_trips: int) -> float:
        """Seconds to stay open on the n-th trip in a row (1-based), capped when configured."""
        wait = self.wait_duration_in_open_state * self.wait_duration_multiplier ** max(
            0, consecutive_trips - 1
        )
        cap = self.max_wait_duration_in_open_state
        return wait if cap is None else min(wait, cap)

    @property
    def effective_minimum_calls(self) -> int:
        """resilience4j caps the minimum at the window size for COUNT_BASED windows."""
        if self.sliding_window_type is SlidingWindowType.COUNT_BASED:
            return min(self.minimum_number_of_calls, self.sliding_window_size)
        return self.minimum_number_of_calls
