"""Hedged requests with an adaptive delay, and racing all attempts for the first good answer.

Hand-written: Polly v8's hedging (latency mode: start the next attempt after a delay, or at
once when an attempt fails; first success wins; losers cancelled) and resilience4j's
adaptive hedge delay, which no Python library offers. `AdaptiveDelay` keeps the latencies of
the last `window` successful attempts and hedges at their `percentile` (p90 by default),
clamped to [floor, ceiling], using `initial` until `min_samples` are known. `race` is the
plain mode: start every attempt at once and return the first answer `accept` approves.
Attempts are zero-argument async callables (e.g. the same provider again, or another
provider); time comes from the injected clock.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from resilience.clock import Clock, system_clock
from resilience.errors import NoGoodAnswer
from resilience.metrics import HEDGE_ATTEMPTS, HEDGE_DELAY, span_event
from resilience.pipeline import CallContext, T


class AdaptiveDelay:
    """Hedging delay = a percentile of recent successful latencies, clamped."""

    def __init__(
        self,
        *,
        percentile: float = 0.9,
        window: int = 100,
        floor: float = 0.01,
        ceiling: float = 2.0,
        initial: float = 0.1,
        min_samples: int = 10,
    ) -> None:
        if not 0 < percentile <= 1 or window < 1 or floor > ceiling:
            raise ValueError("percentile in (0, 1], window >= 1, floor <= ceiling")
        self._percentile = percentile
        self._samples: deque[float] = deque(maxlen=window)
        self._bounds = (floor, ceiling)
        self._initial = initial
        self._min_samples = min_samples
        self._current = min(max(initial, floor), ceiling)

    def observe(self, latency: float) -> None:
        self._samples.append(latency)
        if len(self._samples) >= self._min_samples:
            ordered = sorted(self._samples)
            rank = max(0, math.ceil(self._percentile * len(ordered)) - 1)
            self._current = min(max(ordered[rank], self._bounds[0]), self._bounds[1])

    def current(self) -> float:
        return self._current


def _consume(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


class Hedge:
    """Latency hedging over up to `1 + max_hedged_attempts` attempts."""

    def __init__(
        self,
        name: str = "hedge",
        *,
        delay: AdaptiveDelay | float | None = None,
        max_hedged_attempts: int = 1,
        clock: Clock | None = None,
    ) -> None:
        self.name = name
        self._delay = delay if delay is not None else AdaptiveDelay()
        self._max_hedged = max_hedged_attempts
        self._clock = clock or system_clock()
        self._gauge = HEDGE_DELAY.labels(name)
        self._outcomes = {
            o: HEDGE_ATTEMPTS.labels(name, o)
            for o in ("hedged", "primary_won", "hedge_won", "failed")
        }

    def current_delay(self) -> float:
        return self._delay.current() if isinstance(self._delay, AdaptiveDelay) else self._delay

    async def execute(self, attempts: Sequence[Callable[[], Awaitable[T]]]) -> T:
        """First success among the attempts, started one by one as the delay or failures dictate.

        With a single callable it is hedged against itself `max_hedged_attempts` times. When
        every attempt fails, the error of the last one to fail is raised.
        """
        if not attempts:
            raise ValueError("hedging needs at least one attempt")
        if len(attempts) == 1:
            attempts = list(attempts) * (1 + self._max_hedged)
        attempts = attempts[: 1 + self._max_hedged]
        running: dict[asyncio.Future[T], tuple[int, float]] = {}
        timer: asyncio.Future[None] | None = None
        last_error: BaseException | None = None
        launched, launch_next = 0, True
        try:
            while True:
                if launch_next and launched < len(attempts):
                    running[self._launch(attempts[launched], launched)] = (
                        launched,
                        self._clock.monotonic(),
                    )
                    launched += 1
                    launch_next = False
                    if launched < len(attempts):
                        delay = self.current_delay()
                        self._gauge.set(delay)
                        timer = asyncio.ensure_future(self._clock.sleep(delay))
                if not running:
                    self._outcomes["failed"].inc()
                    assert last_error is not None
                    raise last_error
                waiting: set[asyncio.Future[Any]] = set(running)
                if timer is not None:
                    waiting.add(timer)
                done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                if timer is not None and timer in done:
                    timer, launch_next = None, True
                for task in [t for t in running if t in done]:
                    index, started = running.pop(task)
                    if not task.cancelled() and task.exception() is None:
                        self._won(index, self._clock.monotonic() - started)
                        return task.result()
                    last_error = asyncio.CancelledError() if task.cancelled() else task.exception()
                    launch_next = True  # a failure starts the next attempt at once
                    if timer is not None:
                        timer.cancel()
                        timer = None
        finally:
            if timer is not None:
                timer.cancel()
            for task in running:
                task.cancel()

    def _launch(self, attempt: Callable[[], Awaitable[T]], index: int) -> asyncio.Future[T]:
        if index > 0:
            self._outcomes["hedged"].inc()
            span_event("hedge_started", {"hedge": self.name, "attempt": index + 1})
        task = asyncio.ensure_future(attempt())
        task.add_done_callback(_consume)
        return task

    def _won(self, index: int, latency: float) -> None:
        if isinstance(self._delay, AdaptiveDelay):
            self._delay.observe(latency)
        self._outcomes["primary_won" if index == 0 else "hedge_won"].inc()

    async def run(self, call: Callable[[], Awaitable[T]], ctx: CallContext) -> T:
        """Pipeline step: hedge the rest of the pipeline against itself."""
        return await self.execute([call])


async def race(
    attempts: Sequence[Callable[[], Awaitable[T]]],
    *,
    accept: Callable[[T], bool] = lambda _: True,
    name: str = "race",
) -> T:
    """Start every attempt at once; the first answer `accept` approves wins, the rest are
    cancelled. Raises `NoGoodAnswer` (with every error) when none is acceptable."""
    tasks = [asyncio.ensure_future(attempt()) for attempt in attempts]
    for task in tasks:
        task.add_done_callback(_consume)
    errors: list[BaseException] = []
    try:
        for finished in asyncio.as_completed(tasks):
            try:
                answer = await finished
            except Exception as e:
                errors.append(e)
                continue
            if accept(answer):
                HEDGE_ATTEMPTS.labels(name, "primary_won").inc()
                return answer
        HEDGE_ATTEMPTS.labels(name, "failed").inc()
        raise NoGoodAnswer(errors)
    finally:
        for task in tasks:
            task.cancel()
