"""Redis limiter store: one Lua script decides every window and the pause in ONE round trip.

Hand-written because no library does this: `limits` has Redis moving/fixed windows but no
GCRA, no reservation (wait) and no pause; PyrateLimiter and aiolimiter are per process. The
script transcribes `quota.admit` line by line (the differential test in
tests/integration/resilience checks that both decide alike), and runs atomically in Redis, so
every replica sharing the Redis sees one ledger and N processes together never exceed it.
A provider pause is a key every replica's script reads, so a Retry-After seen by one pauses all.

Time: the caller's epoch seconds (each replica's injected clock, NTP-synchronised across
nodes); a skew of d seconds can admit at most rate*d extra. Keys share the Redis Cluster hash
tag `{provider:credential}`. When Redis fails, an optional `fallback` store (typically
`InMemoryLimiterStore(scale=1/replicas)`) takes over for `retry_interval` seconds at a time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from resilience.limiter_store import LimiterStore
from resilience.metrics import RATELIMIT_STORE_ERRORS, announce
from resilience.quota import MAX_FIXED_STEPS, Decision, LimitKey, Window

_RESERVE = """
local now, cost = tonumber(ARGV[1]), tonumber(ARGV[2])
local max_wait, n = tonumber(ARGV[3]), tonumber(ARGV[4])
local paused_until = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local at = math.max(now, paused_until)
local kind, limit, period, extra, tat = {}, {}, {}, {}, {}
for i = 1, n do
  local b = 4 + (i - 1) * 4
  kind[i], limit[i] = ARGV[b + 1], tonumber(ARGV[b + 2])
  period[i], extra[i] = tonumber(ARGV[b + 3]), tonumber(ARGV[b + 4])
  if kind[i] == 'gcra' then
    tat[i] = tonumber(redis.call('GET', KEYS[1 + i]) or '')
    if tat[i] then at = math.max(at, tat[i] + (cost - extra[i]) * period[i] / limit[i]) end
  end
end
local settled = false
for _ = 1, tonumber(ARGV[5 + n * 4]) do
  local moved = false
  for i = 1, n do
    if kind[i] == 'fixed' then
      local idx = math.floor((at - extra[i]) / period[i])
      local used = tonumber(redis.call('HGET', KEYS[1 + i], string.format('%.0f', idx)) or '0')
      if used + cost > limit[i] + 1e-6 then at = extra[i] + (idx + 1) * period[i]; moved = true end
    end
  end
  if not moved then settled = true; break end
end
local paused = (paused_until > now) and 1 or 0
local wait = at - now
if wait <= 1e-6 then wait = 0 end
if (not settled) or wait > max_wait + 1e-6 then
  return {0, string.format('%.17g', at - now), paused}
end
for i = 1, n do
  if kind[i] == 'gcra' then
    local new_tat = math.max(tat[i] or at, at) + cost * period[i] / limit[i]
    local ttl = math.ceil((new_tat - now) * 1000) + 1000
    redis.call('SET', KEYS[1 + i], string.format('%.17g', new_tat), 'PX', ttl)
  else
    local idx = math.floor((at - extra[i]) / period[i])
    local current = math.floor((now - extra[i]) / period[i])
    redis.call('HINCRBYFLOAT', KEYS[1 + i], string.format('%.0f', idx), cost)
    for _, field in ipairs(redis.call('HKEYS', KEYS[1 + i])) do
      if tonumber(field) < current then redis.call('HDEL', KEYS[1 + i], field) end
    end
    local ttl = math.ceil((extra[i] + (idx + 1) * period[i] - now) * 1000) + 1000
    if redis.call('PTTL', KEYS[1 + i]) < ttl then redis.call('PEXPIRE', KEYS[1 + i], ttl) end
  end
end
return {1, string.format('%.17g', wait), paused}
"""

_PAUSE = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local untl, now = tonumber(ARGV[1]), tonumber(ARGV[2])
if untl > current and untl > now then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', math.ceil((untl - now) * 1000) + 1000)
  return ARGV[1]
end
return string.format('%.17g', current)
"""


class RedisLimiterStore:
    """Limiter state in Redis, shared by every replica that uses the same `prefix`."""

    name = "redis"

    def __init__(
        self,
        redis: Redis,
        *,
        prefix: str = "argo:rl",
        fallback: LimiterStore | None = None,
        retry_interval: float = 1.0,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._reserve = redis.register_script(_RESERVE)
        self._pause = redis.register_script(_PAUSE)
        self._fallback = fallback
        self._retry_interval = retry_interval
        self._down_until = -math.inf

    def _keys(self, key: LimitKey, windows: Sequence[Window]) -> list[str]:
        tag = f"{self._prefix}:{{{key.pause_scope}}}"
        return [f"{tag}:pause", *(f"{tag}:{key.endpoint}:{w.label}" for w in windows)]

    async def reserve(
        self, key: LimitKey, windows: Sequence[Window], cost: float, now: float, max_wait: float
    ) -> Decision:
        if self._fallback is not None and now < self._down_until:
            return await self._fallback.reserve(key, windows, cost, now, max_wait)
        args: list[Any] = [repr(now), repr(cost), repr(max_wait), len(windows)]
        for w in windows:
            extra = w.burst if w.kind == "gcra" else w.offset
            args += [w.kind, repr(w.limit), repr(w.period), repr(extra)]
        args.append(MAX_FIXED_STEPS)
        try:
            granted, wait, paused = await self._reserve(keys=self._keys(key, windows), args=args)
        except (RedisError, OSError) as e:
            if self._fallback is None:
                RATELIMIT_STORE_ERRORS.labels(store=self.name, fallback="none").inc()
                raise
            self._enter_fallback(e, now)
            return await self._fallback.reserve(key, windows, cost, now, max_wait)
        return Decision(bool(granted), float(wait), bool(paused))

    async def pause(self, key: LimitKey, until: float, now: float) -> float:
        if self._fallback is not None:
            await self._fallback.pause(key, until, now)
        try:
            reply = await self._pause(keys=self._keys(key, ()), args=[repr(until), repr(now)])
        except (RedisError, OSError) as e:
            if self._fallback is None:
                raise
            self._enter_fallback(e, now)
            return until
        return float(reply)

    async def paused_until(self, key: LimitKey, now: float) -> float:
        try:
            value = await self._redis.get(self._keys(key, ())[0])
        except (RedisError, OSError):
            if self._fallback is None:
                raise
            return await self._fallback.paused_until(key, now)
        return float(value) if value is not None else 0.0

    def _enter_fallback(self, error: BaseException, now: float) -> None:
        RATELIMIT_STORE_ERRORS.labels(store=self.name, fallback="memory").inc()
        self._down_until = now + self._retry_interval
        announce(
            "ratelimit_store_fallback",
            {"store": self.name, "error": type(error).__name__, "seconds": self._retry_interval},
            level="warning",
        )
