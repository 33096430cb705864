"""Circuit breaker: resilience4j semantics and the seeds' consecutive mode, on fake time."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import REGISTRY

from resilience.breaker import BreakerTransition, CircuitBreaker
from resilience.breaker_config import BreakerConfig, BreakerState, SlidingWindowType
from resilience.errors import CircuitOpen
from resilience.presets import SEED_BREAKER
from service_runtime.clock import FakeClock


class Boom(Exception):
    pass


async def ok() -> str:
    return "ok"


async def fail() -> str:
    raise Boom


async def outcomes(breaker: CircuitBreaker, *fns) -> None:
    for fn in fns:
        try:
            await breaker.execute(fn)
        except Boom:
            pass


def rate_config(**overrides) -> BreakerConfig:
    options = dict(
        sliding_window_size=4,
        minimum_number_of_calls=4,
        failure_rate_threshold=50.0,
        wait_duration_in_open_state=10.0,
        permitted_number_of_calls_in_half_open_state=2,
    )
    options.update(overrides)
    return BreakerConfig(**options)


@pytest.mark.asyncio
async def test_seed_defaults_open_after_5_failures_and_close_after_2_successes(
    clock: FakeClock,
) -> None:
    breaker = CircuitBreaker("seed", SEED_BREAKER, clock=clock)
    await outcomes(breaker, fail, fail, fail, fail, ok, fail, fail, fail, fail)
    assert breaker.state is BreakerState.CLOSED  # a success resets the run
    await outcomes(breaker, fail)
    assert breaker.state is BreakerState.OPEN
    with pytest.raises(CircuitOpen) as info:
        await breaker.execute(ok)
    assert info.value.retry_after == pytest.approx(60.0)
    clock.advance(60)
    assert breaker.state is BreakerState.HALF_OPEN
    await outcomes(breaker, ok)
    assert breaker.state is BreakerState.HALF_OPEN
    await outcomes(breaker, ok)
    assert breaker.state is BreakerState.CLOSED


@pytest.mark.asyncio
async def test_consecutive_half_open_failure_reopens_at_once(clock: FakeClock) -> None:
    breaker = CircuitBreaker("seed", SEED_BREAKER, clock=clock)
    await outcomes(breaker, *[fail] * 5)
    clock.advance(60)
    await outcomes(breaker, ok, fail)
    assert breaker.state is BreakerState.OPEN


@pytest.mark.asyncio
async def test_failure_rate_opens_only_after_the_minimum_number_of_calls(clock: FakeClock) -> None:
    breaker = CircuitBreaker("rate", rate_config(), clock=clock)
    await outcomes(breaker, fail, fail, ok)
    assert breaker.state is BreakerState.CLOSED
    await outcomes(breaker, ok)
    assert breaker.state is BreakerState.OPEN  # 2 of 4 = 50 % >= 50 %


@pytest.mark.asyncio
async def test_count_window_forgets_the_oldest_outcomes(clock: FakeClock) -> None:
    breaker = CircuitBreaker("rate", rate_config(failure_rate_threshold=75.0), clock=clock)
    await outcomes(breaker, fail, fail, ok, ok, ok, fail)
    assert breaker.state is BreakerState.CLOSED  # window [ok, ok, ok, fail]... 50 %
    assert breaker.window_totals().failures == 1


@pytest.mark.asyncio
async def test_time_window_forgets_calls_older_than_its_size(clock: FakeClock) -> None:
    config = rate_config(
        sliding_window_type=SlidingWindowType.TIME_BASED,
        sliding_window_size=10,
        minimum_number_of_calls=3,
    )
    breaker = CircuitBreaker("time", config, clock=clock)
    await outcomes(breaker, fail, fail)
    clock.advance(10)
    await outcomes(breaker, ok, ok)
    assert breaker.state is BreakerState.CLOSED
    assert breaker.window_totals().calls == 2
    await outcomes(breaker, fail, fail)
    assert breaker.state is BreakerState.OPEN


@pytest.mark.asyncio
async def test_slow_calls_open_the_breaker_by_their_rate(clock: FakeClock) -> None:
    config = rate_config(slow_call_duration_threshold=1.0, slow_call_rate_threshold=50.0)
    breaker = CircuitBreaker("slow", config, clock=clock)

    async def slow() -> str:
        await clock.sleep(1.5)
        return "late"

    await outcomes(breaker, ok, slow, ok, slow)
    assert breaker.state is BreakerState.OPEN


@pytest.mark.asyncio
async def test_half_open_permits_a_fixed_number_of_probes(clock: FakeClock) -> None:
    breaker = CircuitBreaker("rate", rate_config(), clock=clock)
    await outcomes(breaker, fail, fail, fail, fail)
    clock.advance(10)
    first, second = breaker.acquire_permission(), breaker.acquire_permission()
    with pytest.raises(CircuitOpen) as info:
        breaker.acquire_permission()
    assert info.value.retry_after is None
    breaker.on_success(first, 0.1)
    breaker.on_error(second, 0.1, Boom())
    assert breaker.state is BreakerState.OPEN  # 50 % of the probes failed


@pytest.mark.asyncio
async def test_open_wait_grows_on_repeated_trips_up_to_a_cap(clock: FakeClock) -> None:
    config = rate_config(wait_duration_multiplier=2.0, max_wait_duration_in_open_state=25.0)
    breaker = CircuitBreaker("grow", config, clock=clock)
    await outcomes(breaker, fail, fail, fail, fail)
    waits = []
    for _ in range(3):
        waits.append(breaker.open_remaining)
        clock.advance(waits[-1])
        await outcomes(breaker, fail, fail)
    assert waits == [10.0, 20.0, 25.0]
    clock.advance(25)
    await outcomes(breaker, ok, ok)
    assert breaker.state is BreakerState.CLOSED
    await outcomes(breaker, fail, fail, fail, fail)
    assert breaker.open_remaining == 10.0  # closing resets the growth


@pytest.mark.asyncio
async def test_ignored_errors_count_neither_way_and_return_the_permit(clock: FakeClock) -> None:
    config = rate_config(ignore_exception=lambda e: isinstance(e, KeyError))
    breaker = CircuitBreaker("ign", config, clock=clock)

    async def missing() -> str:
        raise KeyError("x")

    for _ in range(10):
        with pytest.raises(KeyError):
            await breaker.execute(missing)
    assert breaker.window_totals().calls == 0
    await outcomes(breaker, fail, fail, fail, fail)
    clock.advance(10)
    with pytest.raises(KeyError):
        await breaker.execute(missing)
    breaker.acquire_permission()
    breaker.acquire_permission()  # the ignored call gave its permit back


@pytest.mark.asyncio
async def test_errors_not_recorded_count_as_successes(clock: FakeClock) -> None:
    config = rate_config(record_exception=lambda e: not isinstance(e, ValueError))
    breaker = CircuitBreaker("rec", config, clock=clock)

    async def invalid() -> str:
        raise ValueError

    for _ in range(4):
        with pytest.raises(ValueError):
            await breaker.execute(invalid)
    assert breaker.state is BreakerState.CLOSED
    assert breaker.window_totals().calls == 4 and breaker.window_totals().failures == 0


@pytest.mark.asyncio
async def test_a_call_permitted_before_a_transition_cannot_decide_the_next_state(
    clock: FakeClock,
) -> None:
    breaker = CircuitBreaker("gen", rate_config(), clock=clock)
    stale = breaker.acquire_permission()
    await outcomes(breaker, fail, fail, fail, fail)
    clock.advance(10)
    assert breaker.state is BreakerState.HALF_OPEN
    breaker.on_success(stale, 0.1)
    breaker.on_success(stale, 0.1)
    assert breaker.state is BreakerState.HALF_OPEN


@pytest.mark.asyncio
async def test_cancelled_probe_gives_its_permit_back(clock: FakeClock) -> None:
    breaker = CircuitBreaker("cancel", rate_config(), clock=clock)
    await outcomes(breaker, fail, fail, fail, fail)
    clock.advance(10)
    started = asyncio.Event()

    async def hang() -> str:
        started.set()
        await asyncio.Event().wait()
        return "never"

    task = asyncio.create_task(breaker.execute(hang))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    breaker.acquire_permission()
    breaker.acquire_permission()


@pytest.mark.asyncio
async def test_transitions_are_events_metrics_and_listener_calls(clock: FakeClock) -> None:
    breaker = CircuitBreaker("events", SEED_BREAKER, clock=clock)
    seen: list[BreakerTransition] = []
    breaker.add_listener(seen.append)
    await outcomes(breaker, *[fail] * 5)
    assert seen == [BreakerTransition("events", BreakerState.CLOSED, BreakerState.OPEN, 60.0)]
    assert REGISTRY.get_sample_value("argo_breaker_state", {"breaker": "events"}) == 1
    labels = {"breaker": "events", "from_state": "closed", "to_state": "open"}
    assert REGISTRY.get_sample_value("argo_breaker_transitions_total", labels) == 1
    with pytest.raises(CircuitOpen):
        await breaker.execute(ok)
    rejected = {"breaker": "events", "outcome": "rejected"}
    assert REGISTRY.get_sample_value("argo_breaker_calls_total", rejected) == 1
    breaker.reset()
    assert breaker.state is BreakerState.CLOSED and seen[-1].to_state is BreakerState.CLOSED


def test_config_rejects_nonsense() -> None:
    with pytest.raises(ValueError):
        BreakerConfig(failure_rate_threshold=0)
    with pytest.raises(ValueError):
        BreakerConfig(wait_duration_multiplier=0.5)
    with pytest.raises(ValueError):
        BreakerConfig.consecutive(
            success_threshold=3, permitted_number_of_calls_in_half_open_state=2
        )
