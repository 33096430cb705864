"""Provider orders, failover, breakers, limiter pushback, hedging and the switches, on fakes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from market_gateway.adapters.calendar import NyseCalendar
from market_gateway.bootstrap import GatewayWiring, bootstrap
from market_gateway.config import Settings
from market_gateway.domain import (
    AuthFailed,
    BreakerState,
    CacheStatus,
    ErrorReason,
    RateLimited,
    Timeframe,
)
from service_runtime.clock import FakeClock

from .conftest import IN_SESSION, PRICES, unit_tunables
from .fakes import FakeQuoteSource, unavailable

pytestmark = pytest.mark.asyncio
NAMES = ("polygon", "alpaca", "yahoo")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(IN_SESSION)


@pytest.fixture
def fakes(clock: FakeClock) -> dict[str, FakeQuoteSource]:
    return {name: FakeQuoteSource(clock, PRICES, name=name) for name in NAMES}


async def wire(
    settings: Settings,
    clock: FakeClock,
    nyse: NyseCalendar,
    fakes: dict[str, FakeQuoteSource],
    **raw: object,
) -> GatewayWiring:
    sources = [*fakes.values(), FakeQuoteSource(clock, PRICES, name="synthetic")]
    # no sampled fan-outs: each test counts calls to the providers it expects
    tunables = unit_tunables(**({"optimizations": {"agreement": False}} | raw))
    return await bootstrap(settings, clock=clock, sources=sources, calendar=nyse, tunables=tunables)


@pytest_asyncio.fixture
async def wired(
    settings: Settings, clock: FakeClock, nyse: NyseCalendar, fakes: dict[str, FakeQuoteSource]
) -> AsyncIterator[GatewayWiring]:
    wiring = await wire(settings, clock, nyse, fakes)
    yield wiring
    await wiring.exit_stack.aclose()


async def test_the_order_follows_routing_and_the_synthetic_market_comes_last(
    settings: Settings, clock: FakeClock, nyse: NyseCalendar, fakes: dict[str, FakeQuoteSource]
) -> None:
    wiring = await wire(
        settings, clock, nyse, fakes, routing={"quotes": ["yahoo", "polygon"], "bars": ["alpaca"]}
    )
    router = wiring.app.router
    assert [p.name for p in router.quotes()] == ["yahoo", "polygon", "alpaca", "synthetic"]
    assert [p.name for p in router.bars()] == ["alpaca", "polygon", "yahoo", "synthetic"]
    wiring.apply_config({"routing": {"synthetic_fallback": False},  # type: ignore[misc]
                         "providers": {"polygon": {"enabled": False}}})  # fmt: skip
    assert [p.name for p in router.quotes()] == ["alpaca", "yahoo"]
    await wiring.exit_stack.aclose()


async def test_a_failing_provider_fails_over_and_its_breaker_opens_after_five(
    wired: GatewayWiring, fakes: dict[str, FakeQuoteSource], clock: FakeClock
) -> None:
    fakes["polygon"].failure = unavailable()
    for _ in range(6):
        quotes, errors = await wired.app.get_quotes(["AAPL"], max_age_ms=1)
        assert errors == [] and quotes[0].provider == "alpaca"
        clock.advance(1)
    assert len(fakes["polygon"].quote_calls) == 5  # the sixth was refused by the open breaker
    status = next(s for s in await wired.app.provider_status() if s.name == "polygon")
    assert status.breaker_state is BreakerState.OPEN and status.errors_total == 5
    fakes["polygon"].failure = None
    clock.advance(60)  # the open wait: two good probes close it
    for _ in range(2):
        (quote,), _ = await wired.app.get_quotes(["AAPL"], max_age_ms=1)
        clock.advance(1)
    assert quote.provider == "polygon"
    assert wired.app.router.guards[0].breaker_state is BreakerState.CLOSED


async def test_refused_credentials_fail_over_too(
    wired: GatewayWiring, fakes: dict[str, FakeQuoteSource]
) -> None:
    fakes["polygon"].failure = AuthFailed("polygon: not authorized (HTTP 401)")
    (bars) = await wired.app.get_bars("AAPL", Timeframe.ONE_MINUTE)
    assert bars.provider == "alpaca"


async def test_a_provider_429_pauses_it_for_its_retry_after(
    wired: GatewayWiring, fakes: dict[str, FakeQuoteSource], clock: FakeClock
) -> None:
    fakes["polygon"].failure = RateLimited("polygon: rate limited (HTTP 429)", retry_after=30)
    (quote,), _ = await wired.app.get_quotes(["AAPL"])
    assert quote.provider == "alpaca"
    fakes["polygon"].failure = None
    clock.advance(10)
    (quote,), _ = await wired.app.get_quotes(["MSFT"])
    assert quote.provider == "alpaca" and len(fakes["polygon"].quote_calls) == 1  # paused
    status = next(s for s in await wired.app.provider_status() if s.name == "polygon")
    assert status.paused_until is not None and status.breaker_state is BreakerState.CLOSED
    clock.advance(21)
    (quote,), _ = await wired.app.get_quotes(["ETH-USD"])
    assert quote.provider == "polygon"


async def test_every_provider_out_of_quota_is_rate_limited_with_the_soonest_retry(
    settings: Settings, clock: FakeClock, nyse: NyseCalendar, fakes: dict[str, FakeQuoteSource]
) -> None:
    wiring = await wire(settings, clock, nyse, fakes, routing={"synthetic_fallback": False})
    for name, wait in (("polygon", 5), ("alpaca", 2), ("yahoo", 9)):
        fakes[name].failure = RateLimited(f"{name}: 429", retry_after=wait)
    _, (error,) = await wiring.app.get_quotes(["AAPL"])
    assert (error.reason, error.retry_after_ms) == (ErrorReason.RATE_LIMITED, 2000)
    assert "polygon" in error.message and "yahoo" in error.message
    await wiring.exit_stack.aclose()


async def test_the_synthetic_fallback_serves_failures_never_unknown_symbols(
    wired: GatewayWiring, fakes: dict[str, FakeQuoteSource]
) -> None:
    for fake in fakes.values():
        fake.failure = unavailable()
    (quote,), _ = await wired.app.get_quotes(["AAPL"])
    assert quote.provider == "synthetic"
    for fake in fakes.values():
        fake.failure = None
    _, (error,) = await wired.app.get_quotes(["ZZZZ"])
    assert error.reason is ErrorReason.UNKNOWN_SYMBOL  # unknown to every real provider


async def test_a_provider_that_does_not_know_a_symbol_passes_it_on(
    wired: GatewayWiring, fakes: dict[str, FakeQuoteSource]
) -> None:
    del fakes["polygon"].prices["ETH-USD"]
    quotes, errors = await wired.app.get_quotes(["AAPL", "ETH-USD"])
    assert [(q.symbol, q.provider) for q in quotes] == [("AAPL", "polygon"), ("ETH-USD", "alpaca")]
    assert fakes["alpaca"].quote_calls == [["ETH-USD"]]


async def test_hedging_starts_the_next_provider_when_the_first_is_slow(
    wired: GatewayWiring, fakes: dict[str, FakeQuoteSource]
) -> None:
    fakes["polygon"].hanging = True  # never answers; the hedge delay passes on the FakeClock
    (quote,), errors = await asyncio.wait_for(wired.app.get_quotes(["AAPL"]), timeout=5)
    assert quote.provider == "alpaca" and errors == []
    assert fakes["polygon"].quote_calls == [["AAPL"]]  # started, then cancelled


async def test_without_hedging_a_slow_provider_holds_the_answer_until_the_deadline(
    settings: Settings, clock: FakeClock, nyse: NyseCalendar, fakes: dict[str, FakeQuoteSource]
) -> None:
    wiring = await wire(settings, clock, nyse, fakes,
                        optimizations={"hedging": False, "agreement": False})  # fmt: skip
    fakes["polygon"].hanging = True
    (quote,), _ = await wiring.app.get_quotes(["AAPL"], time_left=0.2)
    assert quote.provider == "alpaca"  # polygon was cut at the deadline, then failover
    status = next(s for s in await wiring.app.provider_status() if s.name == "polygon")
    assert "in time" in status.last_error and status.errors_total == 1
    await wiring.exit_stack.aclose()


async def test_concurrent_requests_share_one_batched_call(
    wired: GatewayWiring, fakes: dict[str, FakeQuoteSource]
) -> None:
    wired.apply_config({"batching": {"window_seconds": 0.001},  # type: ignore[misc]
                        "optimizations": {"agreement": False}})  # fmt: skip
    symbols = ["AAPL", "MSFT", "BTC-USD", "ETH-USD"]
    answers = await asyncio.gather(*(wired.app.get_quotes(symbols) for _ in range(20)))
    assert all(len(quotes) == 4 for quotes, _ in answers)
    assert len(fakes["polygon"].quote_calls) == 1
    assert sorted(fakes["polygon"].quote_calls[0]) == sorted(symbols)


async def test_with_every_switch_off_each_provider_is_asked_per_symbol_in_turn(
    settings: Settings, clock: FakeClock, nyse: NyseCalendar, fakes: dict[str, FakeQuoteSource]
) -> None:
    off = dict.fromkeys(
        ("cache", "batching", "single_flight", "hedging", "streams", "incremental_bars",
         "agreement", "single_source"),
        False,
    )  # fmt: skip
    wiring = await wire(settings, clock, nyse, fakes, optimizations=off)
    journal: list[str] = []
    for fake in fakes.values():
        fake.journal = journal
        fake.latency_seconds = 0.01  # a call in flight yields: overlaps would show
    symbols = ["AAPL", "MSFT", "BTC-USD"]
    for _ in range(2):
        quotes, errors = await wiring.app.get_quotes(symbols)
        assert errors == [] and [q.cache_status for q in quotes] == [CacheStatus.MISS] * 3
        assert [q.provider for q in quotes] == ["polygon"] * 3  # the first in order answers
    for fake in fakes.values():
        assert fake.quote_calls == [[s] for s in symbols] * 2  # one call per symbol
    calls = [entry[1:] for entry in journal[::2]]
    assert calls == list(NAMES) * 6  # symbol by symbol, provider by provider
    assert all(
        a[0] == "+" and b == "-" + a[1:] for a, b in zip(journal[::2], journal[1::2], strict=True)
    )
    await wiring.exit_stack.aclose()
