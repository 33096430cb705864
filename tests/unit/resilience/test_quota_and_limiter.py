"""Rate limiter on the in-process store: GCRA, fixed windows, waits, rejections, pauses."""

from __future__ import annotations

from datetime import timedelta

import pytest

from resilience.errors import RateLimited
from resilience.limiter import RateLimiter
from resilience.limiter_store import InMemoryLimiterStore
from resilience.presets import SEED_QUOTAS
from resilience.quota import LimitKey, Quota, Window
from service_runtime.clock import FakeClock

POLYGON = LimitKey("polygon", "key1", "aggs")


def near(expected: object) -> object:
    """Epoch-second floats carry ~0.25 µs of rounding; compare to the microsecond."""
    return pytest.approx(expected, abs=1e-5)


def limiter(clock: FakeClock, **quotas: Quota) -> RateLimiter:
    return RateLimiter(quotas or {"polygon": Quota.of(Window.rate(5, burst=10))}, clock=clock)


@pytest.mark.asyncio
async def test_burst_is_admitted_at_once_then_the_rate_applies(clock: FakeClock) -> None:
    rl = limiter(clock)
    for _ in range(10):
        assert await rl.acquire(POLYGON) == 0.0
    with pytest.raises(RateLimited) as info:
        await rl.acquire(POLYGON)
    assert info.value.retry_after == near(0.2)
    assert not info.value.paused
    clock.advance(0.2)
    assert await rl.acquire(POLYGON) == 0.0


@pytest.mark.asyncio
async def test_waiting_reserves_the_next_slot_and_sleeps_on_the_clock(clock: FakeClock) -> None:
    rl = limiter(clock)
    for _ in range(10):
        await rl.acquire(POLYGON)
    before = clock.monotonic()
    waited = [await rl.acquire(POLYGON, max_wait=1.0) for _ in range(3)]
    assert waited == near([0.2, 0.2, 0.2])
    assert clock.monotonic() - before == near(0.6)


@pytest.mark.asyncio
async def test_a_rejection_leaves_the_ledger_untouched(clock: FakeClock) -> None:
    rl = limiter(clock)
    for _ in range(10):
        await rl.acquire(POLYGON)
    for _ in range(5):
        with pytest.raises(RateLimited):
            await rl.acquire(POLYGON, max_wait=0.1)
    clock.advance(0.2)
    assert await rl.acquire(POLYGON) == 0.0


@pytest.mark.asyncio
async def test_weighted_cost_uses_that_many_units(clock: FakeClock) -> None:
    rl = limiter(clock)
    await rl.acquire(POLYGON, cost=8)
    await rl.acquire(POLYGON, cost=2)
    with pytest.raises(RateLimited) as info:
        await rl.acquire(POLYGON, cost=3)
    assert info.value.retry_after == near(0.6)


@pytest.mark.asyncio
async def test_cost_above_the_burst_is_a_programming_error(clock: FakeClock) -> None:
    with pytest.raises(ValueError, match="exceeds"):
        await limiter(clock).acquire(POLYGON, cost=11)


@pytest.mark.asyncio
async def test_keys_are_independent_per_credential_and_endpoint(clock: FakeClock) -> None:
    rl = limiter(clock)
    for _ in range(10):
        await rl.acquire(POLYGON)
    await rl.acquire(LimitKey("polygon", "key2", "aggs"))
    await rl.acquire(LimitKey("polygon", "key1", "quotes"))


@pytest.mark.asyncio
async def test_alpha_vantage_daily_quota_holds_across_the_day(clock: FakeClock) -> None:
    rl = RateLimiter(SEED_QUOTAS, clock=clock)
    key = LimitKey("alpha_vantage")
    day_end = clock.now().replace(hour=0, minute=0, second=0) + timedelta(days=1)
    granted = 0
    while clock.now() + timedelta(seconds=600) < day_end:
        try:
            await rl.acquire(key)
            granted += 1
        except RateLimited as e:
            clock.advance(min(e.retry_after, 600))
    assert granted == 25
    with pytest.raises(RateLimited) as info:
        await rl.acquire(key)
    assert clock.now() + timedelta(seconds=info.value.retry_after) == day_end
    clock.advance(info.value.retry_after)
    await rl.acquire(key)


@pytest.mark.asyncio
async def test_fixed_window_opens_again_at_the_period_boundary(clock: FakeClock) -> None:
    rl = RateLimiter({"p": Quota.of(Window.fixed(3, 60))}, clock=clock)
    key = LimitKey("p")
    for _ in range(3):
        await rl.acquire(key)
    waited = await rl.acquire(key, max_wait=60)
    assert clock.now().timestamp() % 60 == 0
    assert 0 < waited <= 60


@pytest.mark.asyncio
async def test_pause_holds_every_endpoint_of_the_credential(clock: FakeClock) -> None:
    rl = limiter(clock)
    until = clock.now() + timedelta(seconds=30)
    assert await rl.pause(POLYGON, until, source="retry_after") == until
    with pytest.raises(RateLimited) as info:
        await rl.acquire(LimitKey("polygon", "key1", "quotes"))
    assert info.value.paused and info.value.retry_after == near(30)
    await rl.acquire(LimitKey("polygon", "key2", "aggs"))
    assert await rl.paused_until(POLYGON) == until
    clock.advance(30)
    assert await rl.paused_until(POLYGON) is None
    await rl.acquire(POLYGON)


@pytest.mark.asyncio
async def test_a_shorter_pause_never_shortens_a_longer_one(clock: FakeClock) -> None:
    rl = limiter(clock)
    long = clock.now() + timedelta(seconds=60)
    await rl.pause(POLYGON, long)
    assert await rl.pause(POLYGON, clock.now() + timedelta(seconds=5)) == long


@pytest.mark.asyncio
async def test_waiters_queue_behind_a_pause_within_their_bound(clock: FakeClock) -> None:
    rl = limiter(clock)
    await rl.pause(POLYGON, clock.now() + timedelta(seconds=2))
    assert await rl.acquire(POLYGON, max_wait=5) == near(2)


@pytest.mark.asyncio
async def test_unknown_providers_are_unlimited_but_pausable(clock: FakeClock) -> None:
    rl = limiter(clock)
    other = LimitKey("yahoo")
    for _ in range(1000):
        await rl.acquire(other)
    await rl.pause(other, clock.now() + timedelta(seconds=1))
    with pytest.raises(RateLimited):
        await rl.acquire(other)


@pytest.mark.asyncio
async def test_endpoint_specific_quota_wins_over_the_provider_quota(clock: FakeClock) -> None:
    rl = RateLimiter(
        {"polygon": Quota.of(Window.rate(5, burst=10)), "polygon:aggs": Quota.of(Window.rate(1))},
        clock=clock,
    )
    await rl.acquire(POLYGON)
    with pytest.raises(RateLimited):
        await rl.acquire(POLYGON)
    rl.set_quotas({"polygon": Quota.of(Window.rate(5, burst=10))})
    await rl.acquire(POLYGON)


@pytest.mark.asyncio
async def test_scaled_store_gives_each_replica_its_share(clock: FakeClock) -> None:
    rl = RateLimiter(
        {"polygon": Quota.of(Window.rate(6, burst=9))},
        store=InMemoryLimiterStore(scale=1 / 3),
        clock=clock,
    )
    for _ in range(3):
        await rl.acquire(POLYGON)
    with pytest.raises(RateLimited) as info:
        await rl.acquire(POLYGON)
    assert info.value.retry_after == near(0.5)


def test_windows_validate_their_options() -> None:
    with pytest.raises(ValueError):
        Window.rate(0)
    with pytest.raises(ValueError):
        Window.rate(5, burst=0.5)
    with pytest.raises(ValueError, match="share"):
        Quota.of(Window.rate(5), Window.rate(10))
    assert Quota.of(Window.rate(0.2, burst=5), Window.fixed(25, 86400)).max_cost == 5
