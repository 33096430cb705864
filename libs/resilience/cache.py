"""Two-tier cache: in-process LRU (entries + bytes) over Redis, with SWR and stale-on-error.

Hand-written composition of `cache_l1.LruTier`, `cache_l2.RedisTier` and `SingleFlight`:
cashews has early refresh, failover and locks but one tier at a time and no byte bound;
aiocache has neither SWR nor two tiers; LiteLLM's DualCache has no stale serving. Behaviour:
- Lookup: L1, then (on an L1 miss or a stale L1 entry) L2; an L2 hit fills L1.
- Fresh -> HIT. Stale within `stale_while_revalidate` -> STALE at once, and ONE background
  refresh per key. Missing/expired -> MISS: `loader()` runs once per key (single-flight, or
  a `flight` you pass, e.g. `RedisSingleFlight` to share loads across replicas); if it fails
  and an entry is within `stale_if_error`, that entry is served as STALE_ON_ERROR. While a
  background refresh of the key is still running, such an entry is served at once rather
  than joining that refresh (which runs without any caller's deadline).
- TTL per entry from `ttl` (a `Ttl`, seconds, or a policy `(key, value) -> Ttl | seconds`).
- Redis away: L2 is circuit-broken (see `cache_l2.py`); callers never see a Redis error and
  L2 use resumes by itself. `redis=None` gives an L1-only cache.
Counters: `argo_cache_hits_total` / `argo_cache_misses_total` (shared names, label `cache`;
a stale value served while revalidating counts as a hit) and
`argo_resilience_cache_stale_total{reason=revalidating|error}`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar, cast

from observability.metrics import CACHE_HITS, CACHE_MISSES
from resilience.breaker_config import BreakerConfig
from resilience.cache_l1 import Entry, LruTier, Ttl
from resilience.clock import Clock, epoch, system_clock
from resilience.codec import Codec, JsonCodec
from resilience.metrics import CACHE_STALE, span_event
from resilience.singleflight import SingleFlight

if TYPE_CHECKING:  # the Redis driver is imported only when an L2 is configured
    from redis.asyncio import Redis

    from resilience.cache_l2 import RedisTier

V = TypeVar("V")
TtlPolicy = Callable[[str, Any], "Ttl | float"]


class CacheStatus(StrEnum):
    HIT = "hit"
    MISS = "miss"
    STALE = "stale"  # within stale-while-revalidate, a refresh under way
    STALE_ON_ERROR = "stale_on_error"  # past it: the load failed or outlasted max_wait


@dataclass(frozen=True, slots=True)
class CacheResult(Generic[V]):
    """A value and where it came from: status, age in seconds, tier (l1, l2, origin)."""

    value: V
    status: CacheStatus
    age: float
    tier: str


class Flight(Protocol):
    async def do(self, key: str, fn: Callable[[], Awaitable[V]]) -> V: ...


class TwoTierCache:
    """L1 LRU + optional L2 Redis; see the module docstring."""

    def __init__(
        self,
        name: str,
        *,
        ttl: TtlPolicy | Ttl | float,
        redis: Redis | None = None,
        codec: Codec | None = None,
        prefix: str = "argo:cache",
        max_entries: int = 10_000,
        max_bytes: int = 64 * 1024 * 1024,
        flight: Flight | None = None,
        l2_breaker: BreakerConfig | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.name = name
        self._ttl = ttl
        self._codec = codec or JsonCodec()
        self._clock = clock or system_clock()
        self.l1 = LruTier(name, max_entries=max_entries, max_bytes=max_bytes)
        self.l2: RedisTier | None = None
        if redis is not None:
            from resilience.cache_l2 import RedisTier

            self.l2 = RedisTier(
                name,
                redis,
                codec=self._codec,
                prefix=f"{prefix}:{name}",
                clock=self._clock,
                breaker=l2_breaker,
            )
        self._flight: Flight = flight or SingleFlight(f"cache:{name}")
        self._refreshing: dict[Hashable, asyncio.Future[Any]] = {}
        self._hits = CACHE_HITS.labels(cache=name)
        self._misses = CACHE_MISSES.labels(cache=name)
        self._stale = {r: CACHE_STALE.labels(name, r) for r in ("revalidating", "error")}

    async def get_or_load(
        self, key: str, loader: Callable[[], Awaitable[V]], *, max_wait: float | None = None
    ) -> CacheResult[V]:
        """The cached value (fresh, or stale per the TTL) or the loader's, stored in both tiers.

        `max_wait` (seconds, e.g. most of the caller's deadline): when an entry is within
        `stale_if_error`, a load taking longer is left to finish in the background and that
        entry is served as STALE_ON_ERROR, so a slow origin never costs the caller its
        deadline."""
        now = epoch(self._clock)
        entry, tier = await self._lookup(key, now)
        if entry is not None and now < entry.stale_until:
            self._hits.inc()
            status = CacheStatus.HIT
            if now >= entry.fresh_until:
                status = CacheStatus.STALE
                self._stale["revalidating"].inc()
                self._revalidate(key, loader)
            span_event("cache_hit", {"cache": self.name, "status": str(status), "tier": tier})
            return CacheResult(cast(V, entry.value), status, now - entry.stored_at, tier)
        if entry is not None and key in self._refreshing and now < entry.error_until:
            # A refresh is already under way (and slow): serve what stale-if-error allows
            # rather than join a load that runs without the caller's deadline.
            self._hits.inc()
            self._stale["error"].inc()
            span_event("cache_hit", {"cache": self.name, "status": "stale_on_error", "tier": tier})
            age = now - entry.stored_at
            return CacheResult(cast(V, entry.value), CacheStatus.STALE_ON_ERROR, age, tier)
        self._misses.inc()
        span_event("cache_miss", {"cache": self.name})
        servable = entry is not None and now < entry.error_until
        try:
            if servable and max_wait is not None:
                value = await self._load_within(key, loader, max_wait)
            else:
                value = await self._flight.do(key, lambda: self._load(key, loader))
        except Exception as e:
            now = epoch(self._clock)
            if entry is None or now >= entry.error_until:
                raise
            self._stale["error"].inc()
            span_event("cache_stale_on_error", {"cache": self.name, "error": type(e).__name__})
            age = now - entry.stored_at
            return CacheResult(cast(V, entry.value), CacheStatus.STALE_ON_ERROR, age, tier)
        return CacheResult(value, CacheStatus.MISS, 0.0, "origin")

    async def get(self, key: str) -> CacheResult[Any] | None:
        """The entry if fresh (HIT) or within its revalidation window (STALE); no loading."""
        now = epoch(self._clock)
        entry, tier = await self._lookup(key, now)
        if entry is None or now >= entry.stale_until:
            return None
        status = CacheStatus.HIT if now < entry.fresh_until else CacheStatus.STALE
        return CacheResult(entry.value, status, now - entry.stored_at, tier)

    async def set(self, key: str, value: Any) -> None:
        """Store `value` in both tiers with the TTL the policy gives it."""
        ttl = self._ttl_for(key, value)
        if ttl.fresh <= 0 and ttl.stale_if_error <= 0 and ttl.stale_while_revalidate <= 0:
            return
        now = epoch(self._clock)
        payload = self._codec.dumps(value)
        entry = Entry.create(value, now, ttl, len(payload))
        self.l1.put(key, entry)
        if self.l2 is not None:
            await self.l2.set(key, entry, payload, now)

    async def invalidate(self, key: str) -> None:
        self.l1.delete(key)
        if self.l2 is not None:
            await self.l2.delete(key)

    async def aclose(self) -> None:
        """Cancel background refreshes (the tiers own nothing else)."""
        tasks = list(self._refreshing.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _lookup(self, key: str, now: float) -> tuple[Entry | None, str]:
        entry = self.l1.get(key, now)
        if entry is not None and now < entry.fresh_until:
            return entry, "l1"
        if self.l2 is not None:
            remote = await self.l2.get(key)
            if remote is not None and now < remote.error_until:
                if entry is None or remote.stored_at > entry.stored_at:
                    self.l1.put(key, remote)
                    return remote, "l2"
        return entry, "l1"

    async def _load(self, key: str, loader: Callable[[], Awaitable[V]]) -> V:
        value = await loader()
        await self.set(key, value)
        return value

    async def _load_within(self, key: str, loader: Callable[[], Awaitable[V]], wait: float) -> V:
        load = asyncio.ensure_future(self._flight.do(key, lambda: self._load(key, loader)))
        try:
            return await asyncio.wait_for(asyncio.shield(load), max(wait, 0.0))
        except TimeoutError:
            self._track(key, load)  # it stores its value when it lands
            raise

    def _track(self, key: str, task: asyncio.Future[Any]) -> None:
        if key in self._refreshing:
            task.add_done_callback(_consume)
            return
        self._refreshing[key] = task
        task.add_done_callback(_consume)
        task.add_done_callback(lambda _: self._refreshing.pop(key, None))

    def _ttl_for(self, key: str, value: Any) -> Ttl:
        ttl = self._ttl(key, value) if callable(self._ttl) else self._ttl
        return ttl if isinstance(ttl, Ttl) else Ttl(float(ttl))

    def _revalidate(self, key: str, loader: Callable[[], Awaitable[Any]]) -> None:
        if key in self._refreshing:
            return
        task = asyncio.create_task(self._refresh(key, loader))
        self._refreshing[key] = task
        task.add_done_callback(lambda _: self._refreshing.pop(key, None))

    async def _refresh(self, key: str, loader: Callable[[], Awaitable[Any]]) -> None:
        try:
            await self._flight.do(key, lambda: self._load(key, loader))
        except Exception as e:
            span_event("cache_refresh_failed", {"cache": self.name, "error": type(e).__name__})


def _consume(task: asyncio.Future[Any]) -> None:
    """Retrieve a background load's outcome so a failure is not reported as unhandled."""
    if not task.cancelled():
        task.exception()
