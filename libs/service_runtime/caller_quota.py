"""Per-caller request quotas: one GCRA bucket per authenticated caller id.

Built on `resilience.RateLimiter` (never a hand-written bucket). Quotas are given as
`{"default": Quota, "<caller-id>": Quota, ...}`: a caller without its own entry gets its own
bucket under the "default" quota; without "default" such callers are unlimited. Each call
costs 1 permit and never waits: over quota is rejected at once with the seconds until the
next permit, which the caller-auth wrapper sends as `grpc-retry-pushback-ms`.

With a shared `store` (the gateway's `RedisLimiterStore`) a quota holds across every
replica: one Redis round trip per admitted call, and while Redis is unreachable each replica
falls back to its share (1/replicas) of the quota. Without one, state is in-process and N
replicas admit up to N times the quota (decision 0016).
"""

from __future__ import annotations

from collections.abc import Mapping

from resilience.clock import Clock
from resilience.errors import RateLimited
from resilience.limiter import RateLimiter
from resilience.limiter_store import LimiterStore
from resilience.quota import LimitKey, Quota

DEFAULT_CALLER = "default"
_SCOPE = "caller"  # the limiter's "provider" label for these keys (metrics, span events)


class CallerQuotas:
    """Admission of one call per caller; `set_quotas` swaps the quotas (hot reload)."""

    def __init__(
        self,
        quotas: Mapping[str, Quota],
        *,
        clock: Clock | None = None,
        store: LimiterStore | None = None,
    ) -> None:
        self._limiter = RateLimiter(_keyed(quotas), store=store, clock=clock, max_wait=0.0)
        self._keys: dict[str, LimitKey] = {}

    def set_quotas(self, quotas: Mapping[str, Quota]) -> None:
        """Replace every caller's quota; buckets keep their history (RateLimiter semantics)."""
        self._limiter.set_quotas(_keyed(quotas))

    async def retry_after(self, caller: str) -> float | None:
        """Take one permit for `caller`; None when granted, else seconds until one is free."""
        key = self._keys.get(caller)
        if key is None:
            key = self._keys[caller] = LimitKey(_SCOPE, credential=caller, endpoint=caller)
        try:
            await self._limiter.acquire(key, 1.0, max_wait=0.0)
        except RateLimited as e:
            return max(e.retry_after, 0.001)
        return None


def _keyed(quotas: Mapping[str, Quota]) -> dict[str, Quota]:
    # RateLimiter looks a key up as "<provider>:<endpoint>", then "<provider>": so the caller's
    # own entry is "caller:<id>" and the default is plain "caller".
    return {
        _SCOPE if name == DEFAULT_CALLER else f"{_SCOPE}:{name}": quota
        for name, quota in quotas.items()
    }
