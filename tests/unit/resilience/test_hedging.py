"""Hedging with an adaptive delay, and racing for the first good answer (virtual time)."""

from __future__ import annotations

import asyncio

import pytest
from prometheus_client import REGISTRY

from resilience.errors import NoGoodAnswer
from resilience.hedging import AdaptiveDelay, Hedge, race

from .conftest import START
from .fakes import VirtualClock, settle


class Provider:
    """Answers after `latency` seconds of virtual time (or fails), noting cancellation."""

    def __init__(self, clock: VirtualClock, name: str, latency: float, fail: bool = False):
        self.clock, self.name, self.latency, self.fail = clock, name, latency, fail
        self.started = 0
        self.cancelled = 0

    async def __call__(self) -> str:
        self.started += 1
        try:
            await self.clock.sleep(self.latency)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        if self.fail:
            raise ConnectionError(self.name)
        return self.name


def count(hedge: str, outcome: str) -> float:
    labels = {"hedge": hedge, "outcome": outcome}
    return REGISTRY.get_sample_value("argo_resilience_hedge_total", labels) or 0.0


@pytest.mark.asyncio
async def test_a_fast_primary_never_starts_a_hedge() -> None:
    clock = VirtualClock(START)
    primary, backup = Provider(clock, "a", 0.05), Provider(clock, "b", 0.01)
    call = asyncio.create_task(Hedge("h-fast", delay=0.1, clock=clock).execute([primary, backup]))
    await clock.advance(0.05)
    assert await call == "a"
    assert backup.started == 0


@pytest.mark.asyncio
async def test_a_slow_primary_is_hedged_after_the_delay_and_the_loser_cancelled() -> None:
    clock = VirtualClock(START)
    primary, backup = Provider(clock, "a", 5.0), Provider(clock, "b", 0.05)
    call = asyncio.create_task(Hedge("h-slow", delay=0.1, clock=clock).execute([primary, backup]))
    await clock.advance(0.099)
    assert backup.started == 0
    await clock.advance(0.001)
    assert backup.started == 1
    await clock.advance(0.05)
    assert await call == "b"
    await settle()
    assert primary.cancelled == 1
    assert count("h-slow", "hedge_won") == 1 and count("h-slow", "hedged") == 1


@pytest.mark.asyncio
async def test_a_failure_starts_the_next_attempt_at_once() -> None:
    clock = VirtualClock(START)
    primary, backup = Provider(clock, "a", 0.01, fail=True), Provider(clock, "b", 0.02)
    call = asyncio.create_task(Hedge("h-fail", delay=1.0, clock=clock).execute([primary, backup]))
    await clock.advance(0.01)
    assert backup.started == 1
    await clock.advance(0.02)
    assert await call == "b"


@pytest.mark.asyncio
async def test_when_every_attempt_fails_the_last_error_is_raised() -> None:
    clock = VirtualClock(START)
    attempts = [Provider(clock, "a", 0.01, fail=True), Provider(clock, "b", 0.01, fail=True)]
    call = asyncio.create_task(Hedge("h-all", delay=1.0, clock=clock).execute(attempts))
    await clock.advance(0.02)
    with pytest.raises(ConnectionError, match="b"):
        await call
    assert count("h-all", "failed") == 1


@pytest.mark.asyncio
async def test_cancelling_the_caller_cancels_every_attempt() -> None:
    clock = VirtualClock(START)
    primary, backup = Provider(clock, "a", 5.0), Provider(clock, "b", 5.0)
    call = asyncio.create_task(Hedge("h-cancel", delay=0.1, clock=clock).execute([primary, backup]))
    await clock.advance(0.2)
    call.cancel()
    await settle()
    assert primary.cancelled == 1 and backup.cancelled == 1


def test_adaptive_delay_follows_the_p90_within_its_bounds() -> None:
    delay = AdaptiveDelay(
        percentile=0.9, window=10, floor=0.02, ceiling=1.0, initial=0.3, min_samples=5
    )
    for latency in (0.1, 0.1, 0.1, 0.1):
        delay.observe(latency)
    assert delay.current() == 0.3  # too few samples yet
    for latency in (0.1, 0.1, 0.1, 0.1, 0.1, 0.5):
        delay.observe(latency)
    assert delay.current() == 0.1  # nearest-rank p90 of nine 0.1 and one 0.5
    delay.observe(0.5)
    assert delay.current() == 0.5  # the window (10) dropped a 0.1: now two of ten are 0.5
    for _ in range(10):
        delay.observe(0.001)
    assert delay.current() == 0.02  # floor; the window forgot the older samples
    for _ in range(10):
        delay.observe(9.0)
    assert delay.current() == 1.0  # ceiling


@pytest.mark.asyncio
async def test_the_hedge_delay_adapts_to_observed_latency() -> None:
    clock = VirtualClock(START)
    hedge = Hedge(
        "h-adapt",
        delay=AdaptiveDelay(floor=0.01, ceiling=2.0, initial=1.0, min_samples=3),
        clock=clock,
    )
    for _ in range(3):
        call = asyncio.create_task(hedge.execute([Provider(clock, "a", 0.2)]))
        await clock.advance(0.2)
        await call
    assert hedge.current_delay() == pytest.approx(0.2)
    assert REGISTRY.get_sample_value("argo_resilience_hedge_delay_seconds", {"hedge": "h-adapt"})


@pytest.mark.asyncio
async def test_race_returns_the_first_acceptable_answer() -> None:
    clock = VirtualClock(START)

    def answering(value: float | None, latency: float):
        async def attempt() -> float | None:
            await clock.sleep(latency)
            return value

        return attempt

    slow_good = Provider(clock, "slow", 1.0)
    call = asyncio.create_task(
        race(
            [answering(None, 0.01), answering(101.5, 0.02), slow_good],
            accept=lambda v: v is not None,
        )
    )
    await clock.advance(0.02)
    assert await call == 101.5
    await settle()
    assert slow_good.cancelled == 1


@pytest.mark.asyncio
async def test_race_with_no_good_answer_reports_every_error() -> None:
    clock = VirtualClock(START)
    call = asyncio.create_task(
        race([Provider(clock, "a", 0.01, fail=True), Provider(clock, "b", 0.02, fail=True)])
    )
    await clock.advance(0.02)
    with pytest.raises(NoGoodAnswer) as info:
        await call
    assert [str(e) for e in info.value.errors] == ["a", "b"]
