"""Two gateway replicas sharing the real Redis: the L2 cache and the rate-limit ledger."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from market_gateway.adapters.calendar import NyseCalendar
from market_gateway.bootstrap import GatewayWiring, bootstrap
from market_gateway.config import load_settings
from market_gateway.domain import CacheStatus, ErrorReason, RateLimited, Timeframe
from service_runtime.clock import FakeClock
from tests.unit.market_gateway.conftest import IN_SESSION, PRICES, unit_tunables
from tests.unit.market_gateway.fakes import FakeQuoteSource

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def nyse() -> NyseCalendar:
    return NyseCalendar.build(2020, 2030)


class Replica:
    def __init__(self, wiring: GatewayWiring, source: FakeQuoteSource) -> None:
        self.wiring = wiring
        self.app = wiring.app
        self.source = source


@pytest_asyncio.fixture
async def replicas(redis_url: str, nyse: NyseCalendar) -> AsyncIterator[tuple[Replica, Replica]]:
    prefix = f"argo:test-gateway:{uuid.uuid4().hex[:8]}"
    settings = load_settings({"REDIS_URL": redis_url, "MARKET_GATEWAY_REDIS_PREFIX": prefix})
    clock = FakeClock(IN_SESSION)  # one clock: the replicas agree on time, as NTP makes them
    made = []
    for _ in range(2):
        source = FakeQuoteSource(clock, PRICES, name="polygon")
        wiring = await bootstrap(
            settings, clock=clock, source=source, calendar=nyse, tunables=unit_tunables()
        )
        made.append(Replica(wiring, source))
    yield made[0], made[1]
    for replica in made:
        await replica.wiring.exit_stack.aclose()
    redis = Redis.from_url(redis_url)
    keys = [key async for key in redis.scan_iter(match=f"{prefix}*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


@pytest.mark.asyncio
async def test_a_quote_fetched_by_one_replica_is_a_shared_hit_for_the_other(
    replicas: tuple[Replica, Replica],
) -> None:
    first, second = replicas
    (fetched,), _ = await first.app.get_quotes(["AAPL"])
    (shared,), _ = await second.app.get_quotes(["AAPL"])
    assert fetched.cache_status is CacheStatus.MISS
    assert (shared.cache_status, shared.price, shared.provider) == (
        CacheStatus.HIT_SHARED,
        fetched.price,
        "polygon",
    )
    assert len(second.source.quote_calls) == 0
    (local,), _ = await second.app.get_quotes(["AAPL"])
    assert local.cache_status is CacheStatus.HIT_LOCAL  # the L2 hit filled its L1


@pytest.mark.asyncio
async def test_bars_cached_by_one_replica_serve_the_other(
    replicas: tuple[Replica, Replica],
) -> None:
    first, second = replicas
    fetched = await first.app.get_bars("BTC-USD", Timeframe.FIVE_MINUTES, limit=3)
    shared = await second.app.get_bars("BTC-USD", Timeframe.FIVE_MINUTES, limit=3)
    assert shared.cache_status is CacheStatus.HIT_SHARED and shared.bars == fetched.bars
    assert second.source.bar_calls == []


@pytest.mark.asyncio
async def test_a_providers_pushback_pauses_it_for_every_replica(
    replicas: tuple[Replica, Replica],
) -> None:
    first, second = replicas
    first.source.failure = RateLimited("polygon: 429", retry_after=30)
    _, (error,) = await first.app.get_quotes(["MSFT"])
    assert error.reason is ErrorReason.RATE_LIMITED
    _, (other,) = await second.app.get_quotes(["NVDA"])  # never asked: paused in Redis
    assert other.reason is ErrorReason.RATE_LIMITED and 0 < other.retry_after_ms <= 30_000
    assert second.source.quote_calls == []
    (status,) = [s for s in await second.app.provider_status() if s.name == "polygon"]
    assert status.paused_until is not None


def _redis_failures() -> float:
    """Failed L2 cache operations plus failed rate-limit ledger operations, all caches."""
    total = 0.0
    for metric in REGISTRY.collect():
        if metric.name in ("argo_resilience_cache_l2_errors", "argo_ratelimit_store_errors"):
            total += sum(s.value for s in metric.samples if s.name.endswith("_total"))
    return total


@pytest.mark.asyncio
async def test_a_burst_larger_than_the_redis_pool_waits_for_connections_instead_of_failing(
    redis_url: str, nyse: NyseCalendar
) -> None:
    """Lost if it failed: a cold start with more concurrent requests than pooled Redis
    connections (500 symbols at once) failed those Redis calls outright, so the cache
    worked from L1 alone, its Redis circuit could open, and the rate limiter fell back to
    a per-replica share of every quota. The wait is generous here so that a busy machine
    cannot fail it; the default pool raised at once, whatever the wait."""
    prefix = f"argo:test-gateway:{uuid.uuid4().hex[:8]}"
    settings = load_settings(
        {
            "REDIS_URL": redis_url,
            "MARKET_GATEWAY_REDIS_PREFIX": prefix,
            "REDIS_MAX_CONNECTIONS": "8",
            "REDIS_POOL_WAIT_SECONDS": "10",
        }
    )
    clock = FakeClock(IN_SESSION)
    source = FakeQuoteSource(clock, PRICES, name="polygon")
    wiring = await bootstrap(
        settings, clock=clock, source=source, calendar=nyse, tunables=unit_tunables()
    )
    before = _redis_failures()
    try:
        answers = await asyncio.gather(*(wiring.app.get_quotes(list(PRICES)) for _ in range(150)))
    finally:
        await wiring.exit_stack.aclose()
        redis = Redis.from_url(redis_url)
        keys = [key async for key in redis.scan_iter(match=f"{prefix}*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()
    assert all(len(quotes) == len(PRICES) and not errors for quotes, errors in answers)
    assert _redis_failures() == before
