"""MarketGatewayApp through bootstrap() with a fake source, a FakeClock and the NYSE table."""

from __future__ import annotations

import asyncio
import math
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY

from market_gateway.app import MarketGatewayApp
from market_gateway.bootstrap import GatewayWiring, bootstrap
from market_gateway.config import Settings
from market_gateway.domain import (
    BreakerState,
    CacheStatus,
    DomainError,
    ErrorReason,
    InvalidRequest,
    InvalidSymbol,
    ProviderUnavailable,
    Quote,
    RateLimited,
    Timeframe,
    UnknownSymbol,
)
from service_runtime.clock import FakeClock

from .conftest import unit_tunables
from .fakes import FakeQuoteSource, unavailable

pytestmark = pytest.mark.asyncio


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def settle() -> None:
    """Let background work (a stale entry's refresh) run."""
    for _ in range(20):
        await asyncio.sleep(0)


async def test_a_miss_then_hits_then_stale_while_one_refresh_runs(
    app: MarketGatewayApp, source: FakeQuoteSource, clock: FakeClock
) -> None:
    hits, misses = (metric(f"argo_cache_{k}_total", cache="quotes") for k in ("hits", "misses"))
    (first,), _ = await app.get_quotes(["AAPL"])
    assert first.cache_status is CacheStatus.MISS and first.age_ms == 0
    clock.advance(0.5)
    (second,), _ = await app.get_quotes(["aapl"])
    assert second.cache_status is CacheStatus.HIT_LOCAL and second.age_ms == 500
    assert second.price == first.price and len(source.quote_calls) == 1
    source.prices["AAPL"] = 231.0
    clock.advance(0.7)  # past the 1 s TTL, within its stale-while-revalidate second
    (third,), _ = await app.get_quotes(["AAPL"])
    assert (third.cache_status, third.price) == (CacheStatus.STALE, 230.0)
    await settle()
    assert len(source.quote_calls) == 2  # one background refresh
    (fourth,), _ = await app.get_quotes(["AAPL"])
    assert (fourth.cache_status, fourth.price) == (CacheStatus.HIT_LOCAL, 231.0)
    assert metric("argo_cache_hits_total", cache="quotes") == hits + 3
    assert metric("argo_cache_misses_total", cache="quotes") == misses + 1
    assert app.performance()["cache_hit_rate"] == pytest.approx(3 / 4)


async def test_max_age_overrides_the_ttl_policy(
    app: MarketGatewayApp, source: FakeQuoteSource, clock: FakeClock
) -> None:
    await app.get_quotes(["AAPL"])
    clock.advance(0.2)
    (quote,), _ = await app.get_quotes(["AAPL"], max_age_ms=100)
    assert quote.cache_status is CacheStatus.MISS and len(source.quote_calls) == 2
    clock.advance(1.5)
    (quote,), _ = await app.get_quotes(["AAPL"], max_age_ms=10_000)
    assert quote.cache_status is CacheStatus.HIT_LOCAL and quote.age_ms == 1500


async def test_closed_markets_keep_stock_quotes_longer_but_not_crypto(
    app: MarketGatewayApp, source: FakeQuoteSource, clock: FakeClock
) -> None:
    clock.set(datetime(2026, 11, 21, 15, 0, tzinfo=UTC))  # Saturday
    await app.get_quotes(["AAPL", "BTC-USD"])
    clock.advance(5)  # a closed stock market: 1 s x 3, clamped up to 10 s; crypto: 1 s
    quotes, _ = await app.get_quotes(["AAPL", "BTC-USD"])
    assert [q.cache_status for q in quotes] == [CacheStatus.HIT_LOCAL, CacheStatus.MISS]


async def test_symbols_are_canonicalised_deduplicated_and_kept_in_order(
    app: MarketGatewayApp, source: FakeQuoteSource
) -> None:
    quotes, errors = await app.get_quotes(["btc/usd", "aapl", "BTC-USD", "X:BTCUSD", "AAPL"])
    assert [q.symbol for q in quotes] == ["BTC-USD", "AAPL"] and errors == []
    assert source.quote_calls == [["BTC-USD", "AAPL"]]  # one micro-batch


async def test_unknown_symbols_fail_alone_under_the_callers_spelling(
    app: MarketGatewayApp,
) -> None:
    quotes, errors = await app.get_quotes(["aapl", "nope", "msft"])
    assert [q.symbol for q in quotes] == ["AAPL", "MSFT"]
    assert [(e.symbol, e.reason) for e in errors] == [("nope", ErrorReason.UNKNOWN_SYMBOL)]
    assert not errors[0].retryable


async def test_bad_provider_data_fails_only_that_symbol(
    app: MarketGatewayApp, source: FakeQuoteSource, clock: FakeClock
) -> None:
    now = clock.now()
    source.overrides["AAPL"] = Quote("AAPL", math.nan, 0, 0, 0, now, "fake")
    source.overrides["MSFT"] = Quote("MSFT", 420.0, 0, 0, 0, now + timedelta(minutes=5), "fake")
    quotes, errors = await app.get_quotes(["AAPL", "MSFT", "ETH-USD"])
    assert [q.symbol for q in quotes] == ["ETH-USD"]
    assert [(e.symbol, e.reason) for e in errors] == [
        ("AAPL", ErrorReason.BAD_DATA),
        ("MSFT", ErrorReason.BAD_DATA),
    ]
    assert "future" in errors[1].message
    (again,), _ = await app.get_quotes(["ETH-USD"])
    assert again.cache_status is CacheStatus.HIT_LOCAL  # good quotes were cached


@pytest.mark.parametrize(
    ("failure", "reason", "retry_ms"),
    [
        (unavailable(), ErrorReason.PROVIDER_UNAVAILABLE, 0),
        (RateLimited("fake: quota", retry_after=2.5), ErrorReason.RATE_LIMITED, 2500),
    ],
)
async def test_a_failing_provider_serves_cached_quotes_stale_and_fails_the_rest(
    app: MarketGatewayApp,
    source: FakeQuoteSource,
    clock: FakeClock,
    failure: Exception,
    reason: ErrorReason,
    retry_ms: int,
) -> None:
    await app.get_quotes(["AAPL"])
    clock.advance(30)  # long past fresh and revalidation; within stale-if-error (300 s)
    source.failure = failure
    quotes, errors = await app.get_quotes(["AAPL", "msft", "BTC-USD"])
    assert [(q.symbol, q.cache_status) for q in quotes] == [("AAPL", CacheStatus.STALE_ON_ERROR)]
    assert [(e.symbol, e.reason, e.retry_after_ms) for e in errors] == [
        ("msft", reason, retry_ms),
        ("BTC-USD", reason, retry_ms),
    ]
    (status,) = [s for s in await app.provider_status() if s.name == "fake"]
    assert status.errors_total == 1 and "fake" in status.last_error


@pytest.mark.parametrize(
    ("symbols", "field"),
    [([], "symbols"), (["AAPL"] * 1001, "symbols"), (["AAPL", "$$$"], "symbols[1]")],
)
async def test_bad_requests_are_refused_naming_the_field(
    app: MarketGatewayApp, symbols: list[str], field: str
) -> None:
    with pytest.raises(DomainError) as caught:
        await app.get_quotes(symbols)
    assert isinstance(caught.value, InvalidRequest | InvalidSymbol)
    assert caught.value.field == field
    with pytest.raises(InvalidRequest, match="max_age_ms"):
        await app.get_quotes(["AAPL"], max_age_ms=-1)


async def test_bars_default_to_the_latest_hundred_ending_now(
    app: MarketGatewayApp, source: FakeQuoteSource, clock: FakeClock
) -> None:
    series = await app.get_bars("aapl", Timeframe.ONE_MINUTE)
    assert source.bar_calls == [("AAPL", Timeframe.ONE_MINUTE, None, clock.now(), 100)]
    assert series.symbol == "AAPL" and series.provider == "fake" and len(series.bars) == 3
    assert series.cache_status is CacheStatus.MISS and series.age_ms == 0


async def test_bar_windows_are_clamped_to_now_and_validated(
    app: MarketGatewayApp, source: FakeQuoteSource, clock: FakeClock
) -> None:
    start = clock.now() - timedelta(hours=2)
    await app.get_bars(
        "BTC-USD", Timeframe.FIVE_MINUTES, start=start, end=clock.now() + timedelta(days=1)
    )
    assert source.bar_calls[-1] == ("BTC-USD", Timeframe.FIVE_MINUTES, start, clock.now(), 5000)
    await app.get_bars("BTC-USD", Timeframe.ONE_HOUR, limit=7, start=start)
    capped: int = source.bar_calls[-1][4]
    assert capped == 7
    with pytest.raises(InvalidRequest, match="limit"):
        await app.get_bars("AAPL", Timeframe.ONE_MINUTE, limit=5001)
    with pytest.raises(InvalidRequest, match="limit"):
        await app.get_bars("AAPL", Timeframe.ONE_MINUTE, limit=-1)
    with pytest.raises(InvalidRequest, match="end_time"):
        await app.get_bars("AAPL", Timeframe.ONE_MINUTE, start=start, end=start)
    with pytest.raises(InvalidSymbol):
        await app.get_bars("??", Timeframe.ONE_MINUTE)
    with pytest.raises(UnknownSymbol):
        await app.get_bars("NOPE", Timeframe.ONE_MINUTE)


async def test_provider_status_reports_calls_errors_latency_and_the_unconfigured(
    app: MarketGatewayApp, source: FakeQuoteSource, clock: FakeClock
) -> None:
    requests_ok = metric("argo_data_source_requests_total", source="fake", status="ok")
    source.latency_seconds = 0.02
    for _ in range(3):
        await app.get_quotes(["AAPL"], max_age_ms=1)
        clock.advance(1)
    source.latency_seconds = 0.5
    await app.get_quotes(["AAPL"], max_age_ms=1)
    statuses = await app.provider_status()
    (status,) = [s for s in statuses if s.name == "fake"]
    assert (status.enabled, status.breaker_state) == (True, BreakerState.CLOSED)
    assert (status.calls_total, status.errors_total, status.cost_usd_total) == (4, 0, 0.0)
    assert status.limiter_remaining == -1.0 and status.paused_until is None
    assert status.latency_p50_ms == pytest.approx(20.0)
    assert status.latency_p99_ms == pytest.approx(500.0)
    assert metric("argo_data_source_requests_total", source="fake", status="ok") == requests_ok + 4
    assert metric("argo_data_source_status", source="fake") == 1.0
    assert app.performance()["data_source_latencies"] == {"fake": pytest.approx(140.0)}
    polygon = next(s for s in statuses if s.name == "polygon")
    assert not polygon.enabled and polygon.breaker_state is BreakerState.DISABLED


async def test_config_reload_changes_the_ttl_and_can_disable_the_provider(
    settings: Settings, clock: FakeClock, nyse: object
) -> None:
    source = FakeQuoteSource(clock, {"AAPL": 1.0}, name="synthetic")
    wiring: GatewayWiring = await bootstrap(
        settings, clock=clock, source=source, calendar=nyse, tunables=unit_tunables()
    )
    assert wiring.apply_config is not None and wiring.service_names == [
        "argo.marketdata.v1.MarketGateway"
    ]
    wiring.apply_config({"quote_ttl_seconds": 10, "batching": {"window_seconds": 0}})
    await wiring.app.get_quotes(["AAPL"])
    clock.advance(5)
    (quote,), _ = await wiring.app.get_quotes(["AAPL"])
    assert quote.cache_status is CacheStatus.HIT_LOCAL
    wiring.apply_config({"providers": {"synthetic": {"enabled": False}}})
    _, (error,) = await wiring.app.get_quotes(["AAPL"], max_age_ms=1)
    assert error.reason is ErrorReason.PROVIDER_UNAVAILABLE and "enabled" in error.message
    (status,) = [s for s in await wiring.app.provider_status() if s.name == "synthetic"]
    assert not status.enabled and status.breaker_state is BreakerState.DISABLED
    with pytest.raises(ProviderUnavailable):
        await wiring.app.get_bars("AAPL", Timeframe.ONE_DAY)
    with pytest.raises(ValueError, match="quote_ttl_seconds"):
        wiring.apply_config({"quote_ttl_seconds": "soon"})
    await wiring.exit_stack.aclose()
