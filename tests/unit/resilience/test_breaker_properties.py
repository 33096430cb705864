"""Property: the breaker's state machine matches an independent, literal model of the spec.

The model below re-reads resilience4j's rules (and the consecutive mode) in the plainest
possible way — full outcome lists recomputed on every call — and hypothesis drives both it
and `CircuitBreaker` with the same random configurations, outcomes and clock jumps.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from hypothesis import given, settings
from hypothesis import strategies as st

from resilience.breaker import CircuitBreaker
from resilience.breaker_config import BreakerConfig, SlidingWindowType
from resilience.errors import CircuitOpen
from service_runtime.clock import FakeClock

from .conftest import START

SLOW = 1.0  # slow_call_duration_threshold in every generated config


class Boom(Exception):
    pass


class Ignored(Exception):
    pass


@dataclass
class SpecModel:
    config: BreakerConfig
    now: float = 0.0
    state: str = "closed"
    closed: list[tuple[float, bool, bool]] = field(default_factory=list)
    probes: list[tuple[bool, bool]] = field(default_factory=list)
    run: int = 0
    successes: int = 0
    permits: int = 0
    trips: int = 0
    open_until: float = 0.0
    generation: int = 0

    def observe(self) -> str:
        if self.state == "open" and self.now >= self.open_until:
            self.go("half_open")
        return self.state

    def go(self, state: str) -> None:
        c = self.config
        self.state = state
        self.generation += 1
        if state == "open":
            self.trips += 1
            wait = c.wait_duration_in_open_state * c.wait_duration_multiplier ** (self.trips - 1)
            if c.max_wait_duration_in_open_state is not None:
                wait = min(wait, c.max_wait_duration_in_open_state)
            self.open_until = self.now + wait
        elif state == "half_open":
            self.permits, self.successes, self.probes = (
                c.permitted_number_of_calls_in_half_open_state,
                0,
                [],
            )
        else:
            self.trips, self.run, self.closed = 0, 0, []

    def exceeded(self, outcomes: list[tuple[bool, bool]]) -> bool:
        fail = 100.0 * sum(f for f, _ in outcomes) / len(outcomes)
        slow = 100.0 * sum(s for _, s in outcomes) / len(outcomes)
        return (
            fail >= self.config.failure_rate_threshold
            or slow >= self.config.slow_call_rate_threshold
        )

    def start(self) -> int | None:
        """A permit (the state generation) or None when the call is not permitted."""
        state = self.observe()
        if state == "open" or (state == "half_open" and self.permits == 0):
            return None
        if state == "half_open":
            self.permits -= 1
        return self.generation

    def finish(self, permit: int, kind: str, duration: float) -> None:
        c = self.config
        if permit != self.generation:
            return  # permitted under an earlier state: it cannot decide this one
        if kind == "ignored":
            if self.state == "half_open":
                self.permits += 1
            return
        failed, slow = kind == "failure", duration > SLOW
        consecutive = c.sliding_window_type is SlidingWindowType.CONSECUTIVE
        if self.state == "closed" and consecutive:
            self.run = self.run + 1 if failed else 0
            if self.run >= c.failure_threshold:
                self.go("open")
        elif self.state == "closed":
            self.closed.append((self.now, failed, slow))
            if c.sliding_window_type is SlidingWindowType.COUNT_BASED:
                self.closed = self.closed[-c.sliding_window_size :]
                minimum = min(c.minimum_number_of_calls, c.sliding_window_size)
            else:
                oldest = math.floor(self.now) - c.sliding_window_size + 1
                self.closed = [o for o in self.closed if math.floor(o[0]) >= oldest]
                minimum = c.minimum_number_of_calls
            if len(self.closed) >= minimum and self.exceeded([(f, s) for _, f, s in self.closed]):
                self.go("open")
        elif self.state == "half_open" and consecutive:
            self.successes += not failed
            if failed:
                self.go("open")
            elif self.successes >= c.success_threshold:
                self.go("closed")
        elif self.state == "half_open":
            self.probes.append((failed, slow))
            needed = min(c.minimum_number_of_calls, c.permitted_number_of_calls_in_half_open_state)
            if len(self.probes) >= needed:
                self.go("open" if self.exceeded(self.probes) else "closed")


@st.composite
def configs(draw: st.DrawFn) -> BreakerConfig:
    kind = draw(st.sampled_from(list(SlidingWindowType)))
    permitted = draw(st.integers(1, 3))
    return BreakerConfig(
        sliding_window_type=kind,
        sliding_window_size=draw(st.integers(1, 6)),
        minimum_number_of_calls=draw(st.integers(1, 6)),
        failure_rate_threshold=draw(st.sampled_from([25.0, 50.0, 100.0])),
        slow_call_rate_threshold=draw(st.sampled_from([50.0, 100.0])),
        slow_call_duration_threshold=SLOW,
        wait_duration_in_open_state=draw(st.sampled_from([0.0, 5.0, 30.0])),
        wait_duration_multiplier=draw(st.sampled_from([1.0, 2.0])),
        max_wait_duration_in_open_state=draw(st.sampled_from([None, 40.0])),
        permitted_number_of_calls_in_half_open_state=permitted,
        failure_threshold=draw(st.integers(1, 4)),
        success_threshold=draw(st.integers(1, permitted)),
        ignore_exception=lambda e: isinstance(e, Ignored),
    )


outcome_kinds = st.sampled_from(["success", "failure", "failure", "ignored"])
steps = st.lists(
    st.one_of(
        st.tuples(st.just("advance"), st.sampled_from([0.3, 1.0, 5.0, 30.0])),
        st.tuples(st.just("call"), outcome_kinds, st.sampled_from([0.0, 0.0, 0.5, 2.0])),
        st.tuples(st.just("start"), outcome_kinds),
        st.tuples(st.just("finish"), st.integers(0, 3)),
    ),
    max_size=80,
)


@settings(max_examples=400, deadline=None)
@given(config=configs(), ops=steps)
def test_breaker_matches_the_spec_model(config: BreakerConfig, ops: list) -> None:
    clock = FakeClock(START)
    breaker = CircuitBreaker("prop", config, clock=clock)
    model = SpecModel(config)
    pending: list[tuple[int, int, str, float]] = []  # (real permit, model permit, kind, start)
    for op in ops:
        if op[0] == "advance":
            clock.advance(op[1])
            model.now += op[1]
        elif op[0] in ("call", "start"):
            expected = model.start()
            try:
                permit = breaker.acquire_permission()
            except CircuitOpen:
                permit = None
            assert (permit is None) == (expected is None)
            if permit is not None and expected is not None:
                pending.append((permit, expected, op[1], clock.monotonic()))
                if op[0] == "call":
                    clock.advance(op[2])
                    model.now += op[2]
                    _finish(breaker, model, clock, pending.pop())
        elif pending:
            _finish(breaker, model, clock, pending.pop(op[1] % len(pending)))
        assert str(breaker.state) == model.observe()
        if model.state == "open":
            assert abs(breaker.open_remaining - (model.open_until - model.now)) < 1e-9


def _finish(breaker: CircuitBreaker, model: SpecModel, clock: FakeClock, call: tuple) -> None:
    permit, model_permit, kind, started = call
    duration = clock.monotonic() - started
    model.finish(model_permit, kind, duration)
    if kind == "success":
        breaker.on_success(permit, duration)
    else:
        breaker.on_error(permit, duration, Ignored() if kind == "ignored" else Boom())
