"""Rate limiter: GCRA + fixed windows per provider x credential x endpoint, with pushback.

Hand-written on purpose (see `quota.py` for the rule): aiolimiter is a single leaky bucket per
process, `limits` has no token bucket, waits or pauses, PyrateLimiter has no provider pause;
none shares a *paused until* instant across replicas. What it does:
- `acquire(key, cost, max_wait)` reserves a permit in ONE store round trip and sleeps (on the
  injected clock) until the reserved instant, or raises `RateLimited(retry_after)` at once
  when the earliest permit is further away than `max_wait` (or than the call's deadline).
- `pause(key, until)` records a provider's pushback (`pushback.py` parses Retry-After,
  X-RateLimit-*, Alpha Vantage notes into an instant) for the key's provider x credential,
  in the store, so with `RedisLimiterStore` every replica pauses.
- Quotas are looked up by `provider:endpoint`, then `provider`; a key with no quota is only
  subject to pauses. `set_quotas` swaps them at run time (hot-reloaded config).
- `wait_time(key)` peeks at the ledger (seconds until a permit is free) without taking one,
  e.g. for GetProviderStatus or gRPC retry pushback.
A caller cancelled while it waits for its reserved instant forfeits that permit (the quota
errs on the safe side: the slot stays used).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime

from prometheus_client import Counter

from resilience.clock import Clock, epoch, remaining, system_clock
from resilience.errors import RateLimited
from resilience.limiter_store import InMemoryLimiterStore, LimiterStore
from resilience.metrics import (
    RATELIMIT_ACQUIRES,
    RATELIMIT_PAUSES,
    RATELIMIT_WAIT,
    announce,
    span_event,
)
from resilience.pipeline import CallContext, T
from resilience.quota import LimitKey, Quota

_NO_QUOTA = Quota()


class RateLimiter:
    """Keyed multi-window limiter over a `LimiterStore` (in-process by default)."""

    def __init__(
        self,
        quotas: Mapping[str, Quota],
        *,
        store: LimiterStore | None = None,
        clock: Clock | None = None,
        max_wait: float = 0.0,
    ) -> None:
        self._quotas = dict(quotas)
        self._resolved: dict[LimitKey, Quota] = {}
        self._store = store or InMemoryLimiterStore()
        self._clock = clock or system_clock()
        self._max_wait = max_wait
        self._counters: dict[tuple[str, str], Counter] = {}

    def set_quotas(self, quotas: Mapping[str, Quota]) -> None:
        """Replace every quota (state is kept per window, so unchanged windows keep history)."""
        self._quotas = dict(quotas)
        self._resolved = {}

    def quota_for(self, key: LimitKey) -> Quota:
        quota = self._resolved.get(key)
        if quota is None:
            quotas = self._quotas
            quota = quotas.get(f"{key.provider}:{key.endpoint}") or quotas.get(key.provider)
            self._resolved[key] = quota = quota or _NO_QUOTA
        return quota

    async def acquire(
        self, key: LimitKey, cost: float = 1.0, max_wait: float | None = None
    ) -> float:
        """Wait for a permit of `cost`; returns seconds waited, or raises `RateLimited`."""
        quota = self.quota_for(key)
        if cost > quota.max_cost:
            raise ValueError(f"cost {cost} exceeds the largest permit of {key} ({quota.max_cost})")
        bound = self._max_wait if max_wait is None else max_wait
        decision = await self._store.reserve(
            key, quota.windows, cost, epoch(self._clock), max(0.0, bound)
        )
        if not decision.granted:
            self._count(key, "rejected")
            span_event(
                "rate_limited",
                {"limit.key": str(key), "retry_after_s": decision.wait, "paused": decision.paused},
            )
            raise RateLimited(str(key), decision.wait, paused=decision.paused)
        if decision.wait <= 0.0:
            self._count(key, "granted")
            return 0.0
        self._count(key, "waited")
        RATELIMIT_WAIT.labels(provider=key.provider).observe(decision.wait)
        span_event("rate_limit_wait", {"limit.key": str(key), "wait_s": decision.wait})
        await self._clock.sleep(decision.wait)
        return decision.wait

    async def wait_time(self, key: LimitKey, cost: float = 1.0) -> float:
        """Seconds until a permit of `cost` would be free (0.0: now); reserves nothing.

        A reservation that may not wait at all (max_wait < 0) is never granted and leaves the
        ledger untouched, so this peek costs the same single round trip as an acquire.
        """
        quota = self.quota_for(key)
        decision = await self._store.reserve(key, quota.windows, cost, epoch(self._clock), -1.0)
        return decision.wait

    async def pause(self, key: LimitKey, until: datetime, *, source: str = "manual") -> datetime:
        """Stop granting permits for `key.pause_scope` until `until`; returns the pause in force."""
        now = epoch(self._clock)
        effective = await self._store.pause(key, until.timestamp(), now)
        RATELIMIT_PAUSES.labels(provider=key.provider, source=source).inc()
        announce(
            "ratelimit_paused",
            {
                "provider": key.provider,
                "scope": key.pause_scope,
                "source": source,
                "seconds": round(effective - now, 3),
            },
            level="warning",
        )
        return datetime.fromtimestamp(effective, UTC)

    async def paused_until(self, key: LimitKey) -> datetime | None:
        """The end of the pause in force for the key's provider x credential, if any."""
        until = await self._store.paused_until(key, epoch(self._clock))
        return datetime.fromtimestamp(until, UTC) if until > epoch(self._clock) else None

    async def run(self, call: Callable[[], Awaitable[T]], ctx: CallContext) -> T:
        """Pipeline step: take `ctx.cost` on `ctx.key`, waiting at most until `ctx.deadline`."""
        if ctx.key is None:
            raise ValueError("a rate-limited pipeline call needs key=LimitKey(...)")
        left = remaining(self._clock, ctx.deadline)
        await self.acquire(ctx.key, ctx.cost, min(self._max_wait, left))
        return await call()

    def _count(self, key: LimitKey, result: str) -> None:
        counter = self._counters.get((key.provider, result))
        if counter is None:
            counter = RATELIMIT_ACQUIRES.labels(provider=key.provider, result=result)
            self._counters[(key.provider, result)] = counter
        counter.inc()
