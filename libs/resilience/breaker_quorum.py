"""Replica-shared breaker view with a quorum: open for everyone only when k replicas see it open.

Hand-written, and new: pybreaker/purgatory/cashews/LiteLLM share ONE breaker state through
Redis, so one pod's bad network opens the circuit for all (the anti-pattern Polly#215 warns
of); Polly proposed a quorum (Polly#287) but never shipped it; resilience4j refuses sharing.
Here every replica keeps its own `CircuitBreaker` and publishes its state to two sorted sets
per breaker: `alive` (score: heartbeat expiry) and `open` (score: the instant its OPEN wait
ends). One Lua call publishes and reads the view in one round trip. The provider is *shared
open* when at least `quorum` replicas (and at least `min_open_fraction` of the live ones)
report open; calls are then rejected with `CircuitOpen(shared=True)` until fewer than
`quorum` reports remain (their own open waits end), and each replica's local half-open
probes decide recovery as usual. A replica alone in trouble stays alone.

The view is refreshed in the background: at once on every local transition, and at most
every `refresh_interval` seconds while calls flow; permission checks never wait on Redis. If
Redis is unreachable the replica keeps its last view until it lapses and runs on its local
breaker alone. Times are epoch milliseconds from the injected clock.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable, Callable

from redis.asyncio import Redis
from redis.exceptions import RedisError

from resilience.breaker import BreakerTransition, CircuitBreaker
from resilience.breaker_config import BreakerState
from resilience.clock import Clock, epoch, system_clock
from resilience.errors import CircuitOpen
from resilience.metrics import BREAKER_QUORUM_OPEN, announce, span_event
from resilience.pipeline import CallContext, T

_PUBLISH_AND_READ = """
local now, replica = tonumber(ARGV[1]), ARGV[2]
local alive_until, open_until, ttl = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if alive_until > now then redis.call('ZADD', KEYS[1], alive_until, replica) end
if open_until > now then redis.call('ZADD', KEYS[2], open_until, replica)
else redis.call('ZREM', KEYS[2], replica) end
redis.call('PEXPIRE', KEYS[1], ttl)
redis.call('PEXPIRE', KEYS[2], ttl)
return {redis.call('ZCARD', KEYS[1]), redis.call('ZREVRANGE', KEYS[2], 0, -1, 'WITHSCORES')}
"""


class QuorumBreaker:
    """A local breaker plus the replicas' shared view; same API as `CircuitBreaker`."""

    def __init__(
        self,
        local: CircuitBreaker,
        redis: Redis,
        *,
        replica_id: str,
        quorum: int = 2,
        min_open_fraction: float = 0.0,
        heartbeat_ttl: float = 15.0,
        refresh_interval: float = 1.0,
        prefix: str = "argo:breaker",
        clock: Clock | None = None,
    ) -> None:
        if quorum < 1 or not 0 <= min_open_fraction <= 1:
            raise ValueError("quorum >= 1 and min_open_fraction in [0, 1]")
        self.local = local
        self.name = local.name
        self._replica = replica_id
        self._quorum = quorum
        self._fraction = min_open_fraction
        self._heartbeat = heartbeat_ttl
        self._interval = refresh_interval
        self._keys = [f"{prefix}:{{{local.name}}}:alive", f"{prefix}:{{{local.name}}}:open"]
        self._script = redis.register_script(_PUBLISH_AND_READ)
        self._clock = clock or system_clock()
        self._shared_open_until = 0.0
        self._next_refresh = -math.inf
        self._redis = redis
        self._refreshing: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.open_replicas = 0
        self._gauge = BREAKER_QUORUM_OPEN.labels(local.name)
        local.add_listener(self._on_local_transition)

    def shared_open_remaining(self) -> float:
        """Seconds the quorum keeps this provider open for everyone (0: not shared-open)."""
        return max(0.0, self._shared_open_until - epoch(self._clock))

    def acquire_permission(self) -> int:
        if self._clock.monotonic() >= self._next_refresh:
            self._schedule_refresh()
        remaining = self.shared_open_remaining()
        if remaining > 0:
            span_event("circuit_rejected", {"breaker": self.name, "state": "shared_open"})
            raise CircuitOpen(self.name, remaining, shared=True)
        return self.local.acquire_permission()

    async def execute(self, fn: Callable[[], Awaitable[T]]) -> T:
        permit = self.acquire_permission()
        started = self._clock.monotonic()
        try:
            result = await fn()
        except (asyncio.CancelledError, GeneratorExit):
            self.local.release_permission(permit)
            raise
        except Exception as e:
            self.local.on_error(permit, self._clock.monotonic() - started, e)
            raise
        self.local.on_success(permit, self._clock.monotonic() - started)
        return result

    async def run(self, call: Callable[[], Awaitable[T]], ctx: CallContext) -> T:
        return await self.execute(call)

    async def refresh(self) -> None:
        """Publish this replica's state and read the quorum (one Redis round trip)."""
        now = epoch(self._clock)
        state = self.local.state
        open_until = now + self.local.open_remaining if state is BreakerState.OPEN else 0.0
        self._next_refresh = self._clock.monotonic() + self._interval
        alive, opened = await self._script(
            keys=self._keys,
            args=[
                round(now * 1000),
                self._replica,
                round((now + self._heartbeat) * 1000),
                round(open_until * 1000),
                round(self._heartbeat * 2000),
            ],
        )
        ends = sorted((float(score) / 1000.0 for score in opened[1::2]), reverse=True)
        self.open_replicas = len(ends)
        self._gauge.set(len(ends))
        was_open = self._shared_open_until > now
        quorum = len(ends) >= self._quorum and len(ends) >= self._fraction * max(int(alive), 1)
        self._shared_open_until = ends[self._quorum - 1] if quorum else 0.0
        if quorum != was_open:
            announce(
                "breaker_quorum_changed",
                {
                    "breaker": self.name,
                    "shared_open": quorum,
                    "open_replicas": len(ends),
                    "alive_replicas": int(alive),
                },
                level="warning" if quorum else "info",
            )

    async def aclose(self) -> None:
        """Stop refreshing and withdraw this replica's reports (best effort)."""
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        try:
            for key in self._keys:
                await self._redis.zrem(key, self._replica)
        except (RedisError, OSError):
            pass  # the reports expire with their heartbeat anyway

    def _on_local_transition(self, event: BreakerTransition) -> None:
        self._schedule_refresh(force=True)

    def _schedule_refresh(self, force: bool = False) -> None:
        if self._refreshing is not None and not self._refreshing.done() and not force:
            return
        try:
            task = asyncio.get_running_loop().create_task(self._safe_refresh())
        except RuntimeError:  # no running loop (a transition outside asyncio): next call does it
            self._next_refresh = -math.inf
            return
        self._refreshing = task
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _safe_refresh(self) -> None:
        try:
            await self.refresh()
        except (RedisError, OSError) as e:
            span_event(
                "breaker_quorum_unavailable", {"breaker": self.name, "error": type(e).__name__}
            )
