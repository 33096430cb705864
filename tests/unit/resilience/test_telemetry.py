"""Policies add span events to the caller's current span (and peek at limiter budgets)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from resilience import (
    CircuitBreaker,
    LimitKey,
    Quota,
    RateLimited,
    RateLimiter,
    Retry,
    Ttl,
    TwoTierCache,
    Window,
)
from resilience.presets import SEED_BREAKER
from service_runtime.clock import FakeClock

KEY = LimitKey("xai")


@pytest.fixture
def traced():
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")

    def events() -> list[str]:
        return [event.name for span in exporter.get_finished_spans() for event in span.events]

    return tracer, events


@pytest.mark.asyncio
async def test_policy_decisions_are_span_events_on_the_callers_span(
    clock: FakeClock, traced
) -> None:
    tracer, events = traced
    limiter = RateLimiter({"xai": Quota.of(Window.rate(1, burst=1))}, clock=clock)
    breaker = CircuitBreaker("span-breaker", SEED_BREAKER, clock=clock)
    cache = TwoTierCache("span-cache", ttl=Ttl(10.0), clock=clock)

    async def failing() -> str:
        raise TimeoutError

    async def loaded() -> str:
        return "v"

    with tracer.start_as_current_span("provider call"):
        await limiter.acquire(KEY)
        with pytest.raises(RateLimited):
            await limiter.acquire(KEY)
        await limiter.pause(KEY, clock.now() + timedelta(seconds=5), source="retry_after")
        for _ in range(5):
            with pytest.raises(TimeoutError):
                await Retry("span-retry", max_attempts=1, clock=clock).execute(
                    lambda: breaker.execute(failing)
                )
        await cache.get_or_load("k", loaded)
        await cache.get_or_load("k", loaded)
    names = events()
    for expected in (
        "resilience.rate_limited",
        "resilience.ratelimit_paused",
        "resilience.retry_gave_up",
        "resilience.breaker_state_changed",
        "resilience.cache_miss",
        "resilience.cache_hit",
    ):
        assert expected in names


@pytest.mark.asyncio
async def test_wait_time_peeks_without_reserving(clock: FakeClock) -> None:
    limiter = RateLimiter({"xai": Quota.of(Window.rate(1, burst=2))}, clock=clock)
    assert await limiter.wait_time(KEY) == 0.0
    await limiter.acquire(KEY)
    await limiter.acquire(KEY)
    assert await limiter.wait_time(KEY) == pytest.approx(1.0, abs=1e-5)
    assert await limiter.wait_time(KEY) == pytest.approx(1.0, abs=1e-5)  # nothing was taken
    clock.advance(1.0)
    assert await limiter.wait_time(KEY) == 0.0
    await limiter.acquire(KEY)
