"""Composition of policies in one pipeline, and provider pushback parsing into pauses."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from tenacity.wait import wait_fixed

from resilience import (
    CircuitBreaker,
    CircuitOpen,
    DeadlineExceeded,
    LimitKey,
    Pipeline,
    Quota,
    RateLimited,
    RateLimiter,
    Retry,
    SingleFlight,
    Window,
    deadline_after,
)
from resilience.presets import SEED_BREAKER
from resilience.pushback import (
    MAX_PAUSE,
    parse_alpha_vantage_note,
    parse_ratelimit_headers,
    parse_response,
    parse_retry_after,
)
from service_runtime.clock import FakeClock
from tests.conftest import PROVIDER_FIXTURES

from .conftest import START

FIXTURES = PROVIDER_FIXTURES
KEY = LimitKey("polygon", "k1", "aggs")


def pipeline(clock: FakeClock, **limiter_options) -> tuple[Pipeline, CircuitBreaker]:
    limiter = RateLimiter(
        {"polygon": Quota.of(Window.rate(5, burst=2))}, clock=clock, **limiter_options
    )
    breaker = CircuitBreaker("pipe", SEED_BREAKER, clock=clock)
    retry = Retry("pipe", wait=wait_fixed(0.0), max_attempts=3, clock=clock)
    return Pipeline([retry, breaker, limiter], clock=clock), breaker


@pytest.mark.asyncio
async def test_each_retry_attempt_passes_the_breaker_and_takes_a_permit(clock: FakeClock) -> None:
    pipe, breaker = pipeline(clock, max_wait=1.0)
    calls: list[float] = []

    async def flaky() -> str:
        calls.append(clock.monotonic())
        if len(calls) < 3:
            raise TimeoutError
        return "ok"

    assert await pipe.execute(flaky, key=KEY) == "ok"
    assert len(calls) == 3
    assert calls[2] - calls[0] == pytest.approx(0.2, abs=1e-5)  # third permit waited 0.2 s
    assert breaker.window_totals().calls == 0  # consecutive mode keeps no window


@pytest.mark.asyncio
async def test_an_open_breaker_spends_no_quota(clock: FakeClock) -> None:
    pipe, breaker = pipeline(clock)
    for _ in range(5):
        breaker.on_error(breaker.acquire_permission(), 0.0, TimeoutError())
    with pytest.raises(CircuitOpen):
        await pipe.execute(_ok, key=KEY)
    breaker.reset()
    assert await pipe.execute(_ok, key=KEY) == "ok"
    assert await pipe.execute(_ok, key=KEY) == "ok"  # the burst of 2 was untouched


@pytest.mark.asyncio
async def test_local_rate_limiting_never_opens_the_breaker(clock: FakeClock) -> None:
    limiter = RateLimiter({"polygon": Quota.of(Window.rate(5, burst=2))}, clock=clock)
    breaker = CircuitBreaker("pipe-local", SEED_BREAKER, clock=clock)
    pipe = Pipeline([breaker, limiter], clock=clock)
    rejected = 0
    for _ in range(20):
        try:
            await pipe.execute(_ok, key=KEY)
        except RateLimited:
            rejected += 1
    assert rejected == 18
    assert str(breaker.state) == "closed"


@pytest.mark.asyncio
async def test_limiter_waits_are_bounded_by_the_callers_deadline(clock: FakeClock) -> None:
    pipe, _ = pipeline(clock, max_wait=10.0)
    await pipe.execute(_ok, key=KEY)
    await pipe.execute(_ok, key=KEY)
    with pytest.raises(RateLimited) as info:
        await pipe.execute(_ok, key=KEY, deadline=deadline_after(clock, 0.1))
    assert info.value.retry_after == pytest.approx(0.2, abs=1e-5)


@pytest.mark.asyncio
async def test_a_call_past_its_deadline_never_starts(clock: FakeClock) -> None:
    pipe, _ = pipeline(clock)
    deadline = deadline_after(clock, 1.0)
    clock.advance(1.0)
    with pytest.raises(DeadlineExceeded):
        await pipe.execute(_ok, key=KEY, deadline=deadline)


@pytest.mark.asyncio
async def test_single_flight_in_a_pipeline_shares_by_key(clock: FakeClock) -> None:
    flight = SingleFlight("pipe-sf")
    pipe = Pipeline([flight], clock=clock)
    assert await pipe.execute(_ok, key=KEY) == "ok"
    assert await pipe.execute(_ok) == "ok"  # no key: not shared, still called


@pytest.mark.asyncio
async def test_a_limiter_in_a_pipeline_needs_a_key(clock: FakeClock) -> None:
    pipe, _ = pipeline(clock)
    with pytest.raises(ValueError, match="key"):
        await pipe.execute(_ok)


async def _ok() -> str:
    return "ok"


def test_retry_after_in_seconds_or_http_date() -> None:
    assert parse_retry_after("120", START).until == START + timedelta(seconds=120)
    dated = parse_retry_after("Mon, 02 Mar 2026 15:00:30 GMT", START)
    assert dated is not None and dated.until == START + timedelta(seconds=30)
    assert parse_retry_after("Mon, 02 Mar 2026 14:00:00 GMT", START) is None  # in the past
    assert parse_retry_after("soon", START) is None
    assert parse_retry_after("999999999", START).until == START + MAX_PAUSE


def test_ratelimit_headers_pause_only_when_nothing_remains() -> None:
    reset = str(int(START.timestamp()) + 42)
    assert (
        parse_ratelimit_headers({"X-RateLimit-Remaining": "3", "X-RateLimit-Reset": reset}, START)
        is None
    )
    found = parse_ratelimit_headers(
        {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}, START
    )
    assert found is not None and found.until == START + timedelta(seconds=42)
    millis = str(int(START.timestamp() * 1000) + 1500)
    found = parse_ratelimit_headers(
        {"x-ratelimit-remaining": "0", "x-ratelimit-reset": millis}, START
    )
    assert found is not None and found.until == START + timedelta(seconds=1.5)
    found = parse_ratelimit_headers({"ratelimit-remaining": "0", "ratelimit-reset": "6m0s"}, START)
    assert found is not None and found.until == START + timedelta(minutes=6)


def test_a_429_is_a_pushback_even_without_headers() -> None:
    found = parse_response(429, {"Retry-After": "7"}, START)
    assert found is not None and (found.until, found.source) == (
        START + timedelta(seconds=7),
        "retry_after",
    )
    bare = parse_response(429, {}, START)
    assert bare is not None and bare.source == "status_429"
    assert parse_response(200, {"Content-Type": "application/json"}, START) is None


def test_alpha_vantage_throttle_bodies_from_the_recorded_fixtures() -> None:
    daily = json.loads(
        (
            FIXTURES / "alphavantage/information-free-key-limit-25-per-day-beanprice-issue124.json"
        ).read_text()
    )
    minute = json.loads(
        (
            FIXTURES
            / "alphavantage/note-rate-limit-5-per-minute-500-per-day-finance-quote-pr104.json"
        ).read_text()
    )
    quote = json.loads((FIXTURES / "alphavantage/global-quote-IBM.json").read_text())
    found = parse_alpha_vantage_note(daily, START)
    assert found is not None and found.until == START.replace(hour=0) + timedelta(days=1)
    found = parse_alpha_vantage_note(minute, START)
    assert found is not None and found.until == START + timedelta(seconds=60)
    assert parse_alpha_vantage_note(quote, START) is None
    premium = {"Information": "This is a premium endpoint. Subscribe to unlock it."}
    assert parse_alpha_vantage_note(premium, START) is None
    burst = {"Information": "Please respect the burst pattern (1 request per second)."}
    assert parse_alpha_vantage_note(burst, START).until == START + timedelta(seconds=1)
    shifted = parse_alpha_vantage_note(daily, START, day_reset_offset=timedelta(hours=5))
    assert shifted is not None and shifted.until == START.replace(hour=5) + timedelta(days=1)
