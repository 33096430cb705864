"""The gateway's three caches (quotes, bars, sentiment) as the app sees them.

bootstrap builds each as a `resilience.TwoTierCache` (L1 LRU, plus Redis when REDIS_URL
is set) through a `CacheFactory`, handing it the app's TTL policy and a single flight that
follows `optimizations.single_flight`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from market_gateway.domain import CacheStatus
from market_gateway.ports import Cache, CachedValue
from resilience.cache_l1 import Ttl
from resilience.singleflight import SingleFlight

V = TypeVar("V")
TtlFor = Callable[[str, Any], Ttl]


class Flight(Protocol):
    async def do(self, key: str, fn: Callable[[], Awaitable[V]]) -> V: ...


# (cache name, TTL policy, flight) -> the cache
CacheFactory = Callable[[str, TtlFor, Flight], Cache]


class SwitchableFlight:
    """Loads of one key share one call while `enabled()`; each runs its own otherwise."""

    def __init__(self, name: str, enabled: Callable[[], bool]) -> None:
        self._flight = SingleFlight(name)
        self._enabled = enabled

    async def do(self, key: str, fn: Callable[[], Awaitable[V]]) -> V:
        if self._enabled():
            return await self._flight.do(key, fn)
        return await fn()


def cache_status(found: CachedValue) -> CacheStatus:
    """How a cached value was served, in the API's terms."""
    if found.status == "stale":
        return CacheStatus.STALE
    if found.status == "stale_on_error":
        return CacheStatus.STALE_ON_ERROR
    if found.status == "miss" or found.tier == "origin":
        return CacheStatus.MISS
    return CacheStatus.HIT_SHARED if found.tier == "l2" else CacheStatus.HIT_LOCAL
