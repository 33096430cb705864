"""RedisLeases: the Ownership port for several replicas sharing the configured symbols.

Every tick (a fifth of the lease period P) a replica
1. heartbeats into a members sorted set (score = expiry, Redis server time) and reads the
   live members;
2. computes each symbol's owner by rendezvous hashing over them;
3. in one script: acquires (SET NX PX) or renews (PEXPIRE) the leases of its symbols and
   deletes the leases it holds but no longer should (a new member won them) - except
   those a running cycle has claimed, which it keeps until the cycle ends.

Leases and heartbeats live 0.8 P, so a dead replica's leases lapse at most 0.8 P after its
last tick; a replica waiting for a lease its rendezvous owner holds re-tries when the
lease's remaining time is up (never later than a tick), so takeover happens within P.
A replica trusts a lease until 0.95 x its TTL after the tick that set it began, so two
replicas never hold the same symbol; a cycle only processes symbols held at its start,
and should be much shorter than P. When Redis is unreachable no lease is renewed and
ownership lapses (no symbol is processed twice; none is processed until Redis returns).
All keys share one hash tag, so the scripts also run on Redis Cluster.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from service_runtime.cancellation import raise_if_cancelling
from signal_engine.domain import rendezvous_owner
from signal_engine.ports import Clock

log = structlog.get_logger(__name__)

_HEARTBEAT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('PEXPIRE', KEYS[1], ttl * 4)
return redis.call('ZRANGE', KEYS[1], 0, -1)
"""
# Per key: 1 held by me after the call; 0 not held; -(pttl + 1) wanted but another
# replica still holds it for pttl ms.
_LEASES = """
local out = {}
for i, key in ipairs(KEYS) do
  local flag = ARGV[i + 2]
  local holder = redis.call('GET', key)
  local result = 0
  if holder == ARGV[1] then
    if flag == '0' then
      redis.call('DEL', key)
    else
      redis.call('PEXPIRE', key, ARGV[2])
      result = 1
    end
  elseif not holder then
    if flag == '1' then
      redis.call('SET', key, ARGV[1], 'PX', ARGV[2])
      result = 1
    end
  elseif flag == '1' then
    result = -(math.max(redis.call('PTTL', key), 0) + 1)
  end
  out[i] = result
end
return out
"""
_RELEASE = """
for _, key in ipairs(KEYS) do
  if key ~= KEYS[1] and redis.call('GET', key) == ARGV[1] then
    redis.call('DEL', key)
  end
end
redis.call('ZREM', KEYS[1], ARGV[1])
return 1
"""
_TRUST = 0.95  # fraction of a lease's TTL this replica relies on it


class RedisLeases:
    def __init__(
        self,
        redis: Redis,
        symbols: Sequence[str],
        *,
        clock: Clock,
        replica_id: str,
        key_prefix: str,
        lease_seconds: float,
    ) -> None:
        self._redis = redis
        self._symbols = tuple(symbols)
        self._clock = clock
        self._me = replica_id
        self._tick_seconds = lease_seconds / 5.0
        self._ttl_ms = max(1, int((lease_seconds - self._tick_seconds) * 1000))
        tag = "{" + key_prefix + "}"
        self._members_key = f"{tag}:members"
        self._lease_keys = [f"{tag}:lease:{s}" for s in self._symbols]
        self._heartbeat = redis.register_script(_HEARTBEAT)
        self._leases = redis.register_script(_LEASES)
        self._release = redis.register_script(_RELEASE)
        self._held: frozenset[str] = frozenset()
        self._valid_until = 0.0
        self._claims = 0
        self._lock = asyncio.Lock()  # a claim's snapshot and a tick never interleave
        self._ticked = False
        self._released = False
        self._redis_down = False

    @property
    def replica_id(self) -> str:
        return self._me

    def owned(self) -> frozenset[str]:
        return self._held if self._clock.monotonic() < self._valid_until else frozenset()

    @contextlib.asynccontextmanager
    async def claim(self) -> AsyncIterator[frozenset[str]]:
        if not self._ticked:
            await self.tick()  # the first cycle may start before the keeper's first tick
        async with self._lock:
            self._claims += 1
            owned = self.owned()
        try:
            yield owned
        finally:
            self._claims -= 1

    async def keep(self) -> None:
        while True:
            delay = await self.tick()
            raise_if_cancelling()  # redis-py can swallow a cancel on 3.11 (see cancellation)
            await self._clock.sleep(delay)

    async def tick(self) -> float:
        """One round of heartbeat and leases; return the seconds until the next one."""
        async with self._lock:
            return await self._tick()

    async def _tick(self) -> float:
        if self._released:
            return self._tick_seconds  # shutting down: never take a lease again
        started = self._clock.monotonic()
        try:
            reply = await self._heartbeat([self._members_key], [self._me, self._ttl_ms])
            members = [m.decode() if isinstance(m, bytes) else str(m) for m in reply]
            kept = self._held if self._claims else frozenset()
            flags = [self._flag(s, members, kept) for s in self._symbols]
            results = await self._leases(self._lease_keys, [self._me, self._ttl_ms, *flags])
        except (RedisError, OSError) as e:
            if not self._redis_down:
                self._redis_down = True
                log.error("leases_unrenewable_redis_down", error=str(e), held=len(self.owned()))
            return self._tick_seconds
        if self._redis_down:
            self._redis_down = False
            log.info("leases_redis_recovered")
        held = frozenset(s for s, r in zip(self._symbols, results, strict=True) if int(r) == 1)
        waits = [-int(r) - 1 for r in results if int(r) < 0]
        self._note_changes(held, len(members))
        self._held = held
        self._valid_until = started + _TRUST * self._ttl_ms / 1000.0
        self._ticked = True
        soonest = (min(waits) + 10) / 1000.0 if waits else self._tick_seconds
        return max(0.01, min(self._tick_seconds, soonest))

    async def release(self) -> None:
        """Shutdown: drop every lease and leave the members; no tick takes one again."""
        async with self._lock:
            await self._release_locked()

    async def _release_locked(self) -> None:
        self._released = True
        self._held = frozenset()
        self._valid_until = 0.0
        try:
            await self._release([self._members_key, *self._lease_keys], [self._me])
        except (RedisError, OSError) as e:
            log.warning("lease_release_failed", error=str(e))
            return
        log.info("leases_released", replica=self._me)

    def _flag(self, symbol: str, members: list[str], kept: frozenset[str]) -> str:
        if rendezvous_owner(symbol, members) == self._me:
            return "1"  # mine: acquire or renew
        return "2" if symbol in kept else "0"  # a running cycle keeps it; else hand it over

    def _note_changes(self, held: frozenset[str], members: int) -> None:
        gained, lost = held - self._held, self._held - held
        if gained or lost:
            log.info(
                "symbol_leases_changed",
                replica=self._me,
                gained=sorted(gained),
                lost=sorted(lost),
                owned=len(held),
                replicas=members,
            )
