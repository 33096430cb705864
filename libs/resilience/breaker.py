"""Circuit breaker: resilience4j's state machine on an injected clock (hand-written; see
`breaker_config.py` for why no Python breaker library fits and what each option means).

CLOSED records outcomes in the sliding window (or counts consecutive failures) and opens when
a threshold is crossed with at least the minimum number of calls; OPEN rejects with
`CircuitOpen(retry_after)` until its wait elapses (checked on the next call, as resilience4j
does without the automatic transition thread); HALF_OPEN lets a fixed number of probe calls
through and then closes or re-opens, the open wait growing on consecutive trips. A permit
carries the state generation it was issued in, so a slow call started while CLOSED cannot
decide a HALF_OPEN verdict. Transitions are events: a structlog line, `argo_breaker_state` /
`argo_breaker_transitions_total`, a span event on the current span, and listeners (the
shared quorum view in `breaker_quorum.py` is one).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from prometheus_client import Counter

from resilience.breaker_config import BreakerConfig, BreakerState, SlidingWindowType
from resilience.breaker_window import FAILURE, SUCCESS, CountWindow, TimeWindow, Totals
from resilience.clock import Clock, system_clock
from resilience.errors import CircuitOpen
from resilience.metrics import (
    BREAKER_CALLS,
    BREAKER_STATE,
    BREAKER_TRANSITIONS,
    announce,
    span_event,
)
from resilience.pipeline import CallContext, T

_STATE_VALUE = {BreakerState.CLOSED: 0, BreakerState.OPEN: 1, BreakerState.HALF_OPEN: 2}
_OUTCOME_NAMES = ("success", "failure", "slow_success", "slow_failure", "ignored", "rejected")


@dataclass(frozen=True, slots=True)
class BreakerTransition:
    name: str
    from_state: BreakerState
    to_state: BreakerState
    open_for: float  # seconds the breaker stays open (0 unless to_state is OPEN)


class CircuitBreaker:
    """One breaker (per provider, typically); usable alone, in a pipeline, or via permits."""

    def __init__(
        self, name: str, config: BreakerConfig | None = None, *, clock: Clock | None = None
    ):
        self.name = name
        self.config = config or BreakerConfig()
        self._clock = clock or system_clock()
        self._consecutive = self.config.sliding_window_type is SlidingWindowType.CONSECUTIVE
        self._listeners: list[Callable[[BreakerTransition], None]] = []
        self._calls: list[Counter] = [BREAKER_CALLS.labels(name, o) for o in _OUTCOME_NAMES]
        self._state = BreakerState.CLOSED
        self._generation = 0
        self._trips = 0
        self._open_until = 0.0
        self._failures_in_row = 0
        self._window: CountWindow | TimeWindow = self._closed_window()
        self._probe_window = CountWindow(1)
        self._permits = 0
        self._probe_successes = 0
        BREAKER_STATE.labels(name).set(0)

    def _closed_window(self) -> CountWindow | TimeWindow:
        if self.config.sliding_window_type is SlidingWindowType.TIME_BASED:
            return TimeWindow(self.config.sliding_window_size)
        return CountWindow(self.config.sliding_window_size)

    def add_listener(self, listener: Callable[[BreakerTransition], None]) -> None:
        self._listeners.append(listener)

    @property
    def state(self) -> BreakerState:
        if self._state is BreakerState.OPEN and self._clock.monotonic() >= self._open_until:
            self._transition(BreakerState.HALF_OPEN)
        return self._state

    @property
    def open_remaining(self) -> float:
        """Seconds until an OPEN breaker lets probes through (0 when not open)."""
        return max(0.0, self._open_until - self._clock.monotonic()) if self.state == "open" else 0.0

    def window_totals(self) -> Totals:
        """Calls, failures and slow calls currently in the CLOSED sliding window."""
        return self._window.snapshot(self._clock.monotonic())

    def acquire_permission(self) -> int:
        """A permit for one call, or `CircuitOpen`; pass the permit to `on_success`/`on_error`."""
        if self._state is BreakerState.CLOSED:
            return self._generation
        state = self.state
        if state is BreakerState.HALF_OPEN and self._permits > 0:
            self._permits -= 1
            return self._generation
        self._calls[5].inc()
        retry_after = self.open_remaining if state is BreakerState.OPEN else None
        span_event("circuit_rejected", {"breaker": self.name, "state": str(state)})
        raise CircuitOpen(self.name, retry_after)

    def release_permission(self, permit: int) -> None:
        """Give back an unused permit (the call was cancelled or its error is ignored)."""
        if permit == self._generation and self._state is BreakerState.HALF_OPEN:
            self._permits += 1

    def on_success(self, permit: int, duration: float) -> None:
        slow = duration > self.config.slow_call_duration_threshold
        self._record(permit, SUCCESS | (2 if slow else 0))

    def on_error(self, permit: int, duration: float, error: BaseException) -> None:
        if self.config.ignore_exception(error):
            self._calls[4].inc()
            self.release_permission(permit)
        elif not self.config.record_exception(error):
            self.on_success(permit, duration)
        else:
            slow = duration > self.config.slow_call_duration_threshold
            self._record(permit, FAILURE | (2 if slow else 0))

    async def execute(self, fn: Callable[[], Awaitable[T]]) -> T:
        """Call `fn` if permitted, recording its outcome and duration."""
        permit = self.acquire_permission()
        started = self._clock.monotonic()
        try:
            result = await fn()
        except (asyncio.CancelledError, GeneratorExit):
            self.release_permission(permit)
            raise
        except Exception as e:
            self.on_error(permit, self._clock.monotonic() - started, e)
            raise
        self.on_success(permit, self._clock.monotonic() - started)
        return result

    async def run(self, call: Callable[[], Awaitable[T]], ctx: CallContext) -> T:
        """Pipeline step."""
        return await self.execute(call)

    def reset(self) -> None:
        """Back to CLOSED with an empty window (an operator's manual override)."""
        self._transition(BreakerState.CLOSED)

    def _record(self, permit: int, outcome: int) -> None:
        self._calls[outcome].inc()
        if permit != self._generation:
            return
        failed = bool(outcome & 1)
        config = self.config
        if self._state is BreakerState.CLOSED:
            if self._consecutive:
                self._failures_in_row = self._failures_in_row + 1 if failed else 0
                if self._failures_in_row >= config.failure_threshold:
                    self._transition(BreakerState.OPEN)
                return
            totals = self._window.record(outcome, self._clock.monotonic())
            if totals.calls >= config.effective_minimum_calls and self._exceeded(totals):
                self._transition(BreakerState.OPEN)
        elif self._state is BreakerState.HALF_OPEN:
            if self._consecutive:
                self._probe_successes += not failed
                if failed or self._probe_successes >= config.success_threshold:
                    self._transition(BreakerState.OPEN if failed else BreakerState.CLOSED)
                return
            totals = self._probe_window.record(outcome, 0.0)
            needed = min(
                config.minimum_number_of_calls, config.permitted_number_of_calls_in_half_open_state
            )
            if totals.calls >= needed:
                exceeded = self._exceeded(totals)
                self._transition(BreakerState.OPEN if exceeded else BreakerState.CLOSED)

    def _exceeded(self, totals: Totals) -> bool:
        return (
            totals.failure_rate >= self.config.failure_rate_threshold
            or totals.slow_call_rate >= self.config.slow_call_rate_threshold
        )

    def _transition(self, to: BreakerState) -> None:
        previous, self._state = self._state, to
        self._generation += 1
        open_for = 0.0
        if to is BreakerState.OPEN:
            self._trips += 1
            open_for = self.config.open_wait(self._trips)
            self._open_until = self._clock.monotonic() + open_for
        elif to is BreakerState.HALF_OPEN:
            self._permits = self.config.permitted_number_of_calls_in_half_open_state
            self._probe_successes = 0
            self._probe_window = CountWindow(self._permits)
        else:
            self._trips = 0
            self._failures_in_row = 0
            self._window = self._closed_window()
        BREAKER_STATE.labels(self.name).set(_STATE_VALUE[to])
        BREAKER_TRANSITIONS.labels(self.name, str(previous), str(to)).inc()
        announce(
            "breaker_state_changed",
            {
                "breaker": self.name,
                "from_state": str(previous),
                "to_state": str(to),
                "open_for_s": open_for,
            },
            level="warning" if to is BreakerState.OPEN else "info",
        )
        event = BreakerTransition(self.name, previous, to, open_for)
        for listener in self._listeners:
            listener(event)
