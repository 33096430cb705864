"""Two-tier cache on fake time with a stand-in Redis: tiers, TTL policy, SWR, stale-on-error,
LRU bounds, and an L2 outage that callers never see."""

from __future__ import annotations

import asyncio
from typing import cast

import pytest
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from resilience.cache import CacheStatus, TwoTierCache
from resilience.cache_l1 import Entry, LruTier, Ttl
from service_runtime.clock import FakeClock

from .fakes import FakeRedis, settle


class Loader:
    def __init__(self, *values: object) -> None:
        self.values = list(values)
        self.calls = 0

    async def __call__(self) -> object:
        self.calls += 1
        value = self.values.pop(0) if self.values else f"v{self.calls}"
        if isinstance(value, Exception):
            raise value
        return value


def cache(clock: FakeClock, name: str, redis: FakeRedis | None = None, **options) -> TwoTierCache:
    options.setdefault("ttl", Ttl(10.0))
    return TwoTierCache(name, redis=cast(Redis, redis), clock=clock, **options)


def sample(metric: str, labels: dict[str, str]) -> float:
    return REGISTRY.get_sample_value(metric, labels) or 0.0


@pytest.mark.asyncio
async def test_miss_loads_then_hits_from_l1(clock: FakeClock) -> None:
    c, load = cache(clock, "c-basic"), Loader({"price": 101.5})
    first = await c.get_or_load("AAPL", load)
    assert (first.status, first.tier, first.value) == (CacheStatus.MISS, "origin", {"price": 101.5})
    clock.advance(4)
    second = await c.get_or_load("AAPL", load)
    assert (second.status, second.tier, second.age) == (CacheStatus.HIT, "l1", 4.0)
    assert load.calls == 1
    assert sample("argo_cache_hits_total", {"cache": "c-basic"}) == 1
    assert sample("argo_cache_misses_total", {"cache": "c-basic"}) == 1


@pytest.mark.asyncio
async def test_another_replica_reads_the_value_from_l2(clock: FakeClock) -> None:
    redis = FakeRedis()
    await cache(clock, "c-shared", redis).get_or_load("AAPL", Loader(1.5))
    other, load = cache(clock, "c-shared", redis), Loader(9.9)
    result = await other.get_or_load("AAPL", load)
    assert (result.value, result.status, result.tier) == (1.5, CacheStatus.HIT, "l2")
    assert load.calls == 0
    assert (await other.get_or_load("AAPL", load)).tier == "l1"  # L2 filled L1


@pytest.mark.asyncio
async def test_ttl_policy_decides_per_entry(clock: FakeClock) -> None:
    def policy(key: str, value: object) -> Ttl | float:
        return 60.0 if key.startswith("sentiment:") else Ttl(5.0)

    c = cache(clock, "c-policy", ttl=policy)
    quote, sentiment = Loader(), Loader()
    await c.get_or_load("quote:AAPL", quote)
    await c.get_or_load("sentiment:AAPL", sentiment)
    clock.advance(30)
    await c.get_or_load("quote:AAPL", quote)
    await c.get_or_load("sentiment:AAPL", sentiment)
    assert (quote.calls, sentiment.calls) == (2, 1)


@pytest.mark.asyncio
async def test_stale_while_revalidate_serves_stale_and_refreshes_once(clock: FakeClock) -> None:
    c = cache(clock, "c-swr", ttl=Ttl(10.0, stale_while_revalidate=20.0))
    load = Loader("old", "new")
    await c.get_or_load("k", load)
    clock.advance(15)
    results = await asyncio.gather(*(c.get_or_load("k", load) for _ in range(5)))
    assert {(r.value, r.status) for r in results} == {("old", CacheStatus.STALE)}
    await settle()
    assert load.calls == 2
    fresh = await c.get_or_load("k", load)
    assert (fresh.value, fresh.status) == ("new", CacheStatus.HIT)
    assert (
        sample("argo_resilience_cache_stale_total", {"cache": "c-swr", "reason": "revalidating"})
        == 5
    )


@pytest.mark.asyncio
async def test_past_the_revalidation_window_the_caller_waits_for_a_load(clock: FakeClock) -> None:
    c = cache(clock, "c-expired", ttl=Ttl(10.0, stale_while_revalidate=5.0))
    load = Loader("old", "new")
    await c.get_or_load("k", load)
    clock.advance(16)
    result = await c.get_or_load("k", load)
    assert (result.value, result.status) == ("new", CacheStatus.MISS)


@pytest.mark.asyncio
async def test_serves_stale_when_loading_fails_within_stale_if_error(clock: FakeClock) -> None:
    c = cache(clock, "c-sie", ttl=Ttl(10.0, stale_if_error=60.0))
    load = Loader("good", ConnectionError("provider down"), ConnectionError("still down"))
    await c.get_or_load("k", load)
    clock.advance(30)
    result = await c.get_or_load("k", load)
    assert (result.value, result.status, result.age) == ("good", CacheStatus.STALE_ON_ERROR, 30.0)
    assert sample("argo_resilience_cache_stale_total", {"cache": "c-sie", "reason": "error"}) == 1
    clock.advance(40)
    with pytest.raises(ConnectionError, match="still down"):
        await c.get_or_load("k", load)


@pytest.mark.asyncio
async def test_a_slow_refresh_past_the_revalidation_window_still_serves_stale(
    clock: FakeClock,
) -> None:
    """Joining a slow, deadline-less refresh would turn a servable price into
    DEADLINE_EXCEEDED for every caller until the provider answers."""
    c = cache(clock, "c-slow", ttl=Ttl(10.0, stale_while_revalidate=5.0, stale_if_error=60.0))
    release = asyncio.Event()
    calls = 0

    async def slow_load() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            return "old"
        await release.wait()
        return "new"

    await c.get_or_load("k", slow_load)
    clock.advance(12)  # within SWR: served stale, one refresh starts and hangs
    assert (await c.get_or_load("k", slow_load)).status == CacheStatus.STALE
    clock.advance(10)  # past SWR, within stale-if-error, refresh still running
    result = await asyncio.wait_for(c.get_or_load("k", slow_load), timeout=1.0)
    assert (result.value, result.status) == ("old", CacheStatus.STALE_ON_ERROR)
    assert calls == 2  # no second load was started
    release.set()
    await settle()
    fresh = await c.get_or_load("k", slow_load)
    assert (fresh.value, fresh.status) == ("new", CacheStatus.HIT)


@pytest.mark.asyncio
async def test_a_load_slower_than_max_wait_serves_stale_and_lands_in_the_background(
    clock: FakeClock,
) -> None:
    """Without max_wait a caller with a short deadline would get DEADLINE_EXCEEDED while the
    cache holds a value it may serve on error; the slow load must still land for the next."""
    c = cache(clock, "c-patience", ttl=Ttl(10.0, stale_if_error=60.0))
    release = asyncio.Event()
    values = iter(["old", "new"])

    async def load() -> str:
        value = next(values)
        if value == "new":
            await release.wait()
        return value

    await c.get_or_load("k", load)
    clock.advance(20)  # expired, within stale-if-error
    result = await c.get_or_load("k", load, max_wait=0.0)
    assert (result.value, result.status) == ("old", CacheStatus.STALE_ON_ERROR)
    release.set()
    await settle()
    fresh = await c.get_or_load("k", load, max_wait=0.0)
    assert (fresh.value, fresh.status) == ("new", CacheStatus.HIT)


@pytest.mark.asyncio
async def test_max_wait_does_not_apply_without_a_value_to_fall_back_on(clock: FakeClock) -> None:
    c = cache(clock, "c-patience-empty", ttl=Ttl(10.0, stale_if_error=60.0))
    result = await c.get_or_load("k", Loader("first"), max_wait=0.0)
    assert (result.value, result.status) == ("first", CacheStatus.MISS)


@pytest.mark.asyncio
async def test_concurrent_misses_share_one_load(clock: FakeClock) -> None:
    c = cache(clock, "c-flight")
    gate = asyncio.Event()
    calls = 0

    async def slow_load() -> str:
        nonlocal calls
        calls += 1
        await gate.wait()
        return "v"

    waiting = [asyncio.create_task(c.get_or_load("k", slow_load)) for _ in range(8)]
    await settle()
    gate.set()
    assert {r.value for r in await asyncio.gather(*waiting)} == {"v"}
    assert calls == 1


def test_l1_is_bounded_by_entries_and_by_bytes() -> None:
    tier = LruTier("c-lru", max_entries=3, max_bytes=100)

    def entry(size: int) -> Entry:
        return Entry.create("x", 0.0, Ttl(10.0), size)

    for key in ("a", "b", "c"):
        tier.put(key, entry(10))
    assert tier.get("a", 1.0) is not None  # a is now the most recent
    tier.put("d", entry(10))
    assert tier.get("b", 1.0) is None and len(tier) == 3
    tier.put("e", entry(80))
    assert tier.bytes <= 100 and tier.get("e", 1.0) is not None and tier.get("c", 1.0) is None
    tier.put("huge", entry(101))
    assert tier.get("huge", 1.0) is None  # larger than the tier: never stored in L1
    assert sample("argo_resilience_cache_l1_evictions_total", {"cache": "c-lru"}) >= 2


@pytest.mark.asyncio
async def test_redis_outage_is_invisible_to_callers_and_l2_resumes(clock: FakeClock) -> None:
    redis = FakeRedis()
    c = cache(clock, "c-outage", redis)
    await c.get_or_load("before", Loader(1))
    redis.down = True
    for i in range(20):
        result = await c.get_or_load(f"during-{i}", Loader(i))
        assert result.value == i
    assert (await c.get_or_load("before", Loader())).status is CacheStatus.HIT
    assert redis.calls <= 4  # the L2 circuit opened after 2 failures: no timeout per call
    assert sample("argo_resilience_cache_l2_up", {"cache": "c-outage"}) == 0
    redis.down = False
    clock.advance(0.5)
    await c.get_or_load("after", Loader("x"))
    assert sample("argo_resilience_cache_l2_up", {"cache": "c-outage"}) == 1
    assert any(key.endswith(":after") for key in redis.data)


@pytest.mark.asyncio
async def test_invalidate_drops_both_tiers(clock: FakeClock) -> None:
    redis = FakeRedis()
    c = cache(clock, "c-inval", redis)
    await c.get_or_load("k", Loader("old"))
    await c.invalidate("k")
    assert await c.get("k") is None
    assert (await c.get_or_load("k", Loader("new"))).value == "new"


@pytest.mark.asyncio
async def test_get_reports_fresh_and_stale_without_loading(clock: FakeClock) -> None:
    c = cache(clock, "c-get", ttl=Ttl(10.0, stale_while_revalidate=10.0))
    await c.set("k", [1, 2])
    hit = await c.get("k")
    assert hit is not None and hit.status is CacheStatus.HIT and hit.value == [1, 2]
    clock.advance(15)
    stale = await c.get("k")
    assert stale is not None and stale.status is CacheStatus.STALE
    clock.advance(10)
    assert await c.get("k") is None
    await c.aclose()
