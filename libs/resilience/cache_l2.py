"""The Redis tier of the two-tier cache, behind its own circuit breaker.

Hand-written glue: an entry is stored as a 32-byte header (stored_at, fresh_until,
stale_until, error_until as big-endian doubles) plus the codec's payload, with a Redis TTL
ending at `error_until`. Every Redis call goes through a `CircuitBreaker` (consecutive mode:
by default 2 failures open it for 0.5 s, growing x2 per repeated trip up to 5 s), so while
Redis is away the cache pays no timeout per call: L2 reads answer "miss" and writes are
skipped. After the open wait one probe call tries Redis again; redis-py's pool reconnects by
itself, so L2 use resumes without intervention. No Redis error ever reaches a cache caller.
Build the client with short timeouts (e.g. `socket_timeout=0.25, socket_connect_timeout=0.25`)
so one probe against a hung Redis costs little.
"""

from __future__ import annotations

import struct
from collections.abc import Awaitable, Callable
from typing import TypeVar

from redis.asyncio import Redis
from redis.exceptions import RedisError

from resilience.breaker import BreakerTransition, CircuitBreaker
from resilience.breaker_config import BreakerConfig, BreakerState
from resilience.cache_l1 import Entry
from resilience.clock import Clock
from resilience.codec import Codec
from resilience.errors import CircuitOpen
from resilience.metrics import CACHE_L2_ERRORS, CACHE_L2_UP, announce

R = TypeVar("R")
_HEADER = struct.Struct(">dddd")


def _is_redis_failure(error: BaseException) -> bool:
    return isinstance(error, RedisError | OSError)


def default_l2_breaker() -> BreakerConfig:
    return BreakerConfig.consecutive(
        failure_threshold=2,
        success_threshold=1,
        wait_duration_in_open_state=0.5,
        wait_duration_multiplier=2.0,
        max_wait_duration_in_open_state=5.0,
        record_exception=_is_redis_failure,
    )


class RedisTier:
    """Get/set/delete cache entries in Redis; failures degrade to misses and skipped writes."""

    def __init__(
        self,
        name: str,
        redis: Redis,
        *,
        codec: Codec,
        prefix: str,
        clock: Clock,
        breaker: BreakerConfig | None = None,
    ) -> None:
        self._name = name
        self._redis = redis
        self._codec = codec
        self._prefix = prefix
        self.breaker = CircuitBreaker(
            f"cache_l2:{name}", breaker or default_l2_breaker(), clock=clock
        )
        self.breaker.add_listener(self._on_transition)
        self._up = CACHE_L2_UP.labels(name)
        self._errors = CACHE_L2_ERRORS.labels(name)
        self._up.set(1)

    def _key(self, key: str) -> str:
        return f"{self._prefix}:{key}"

    def encode(self, entry: Entry) -> bytes:
        header = _HEADER.pack(
            entry.stored_at, entry.fresh_until, entry.stale_until, entry.error_until
        )
        return header + self._codec.dumps(entry.value)

    async def get(self, key: str) -> Entry | None:
        raw = await self._guarded(lambda: self._redis.get(self._key(key)), None)
        if not raw or len(raw) < _HEADER.size:
            return None
        data = raw.encode() if isinstance(raw, str) else raw
        stored_at, fresh_until, stale_until, error_until = _HEADER.unpack_from(data)
        try:
            value = self._codec.loads(data[_HEADER.size :])
        except ValueError:
            return None  # written by an incompatible codec: a miss, not an outage
        return Entry(value, stored_at, fresh_until, stale_until, error_until, len(data))

    async def set(self, key: str, entry: Entry, payload: bytes, now: float) -> None:
        """Store `entry` whose value the codec encoded as `payload`, expiring at error_until."""
        ttl_ms = int((entry.error_until - now) * 1000)
        if ttl_ms <= 0:
            return
        times = (entry.stored_at, entry.fresh_until, entry.stale_until, entry.error_until)
        data = _HEADER.pack(*times) + payload
        await self._guarded(lambda: self._redis.set(self._key(key), data, px=ttl_ms), None)

    async def delete(self, key: str) -> None:
        await self._guarded(lambda: self._redis.delete(self._key(key)), None)

    async def _guarded(self, op: Callable[[], Awaitable[R]], default: R) -> R:
        try:
            return await self.breaker.execute(op)
        except CircuitOpen:
            return default
        except (RedisError, OSError):
            self._errors.inc()
            return default

    def _on_transition(self, event: BreakerTransition) -> None:
        if event.to_state is BreakerState.OPEN and event.from_state is BreakerState.CLOSED:
            self._up.set(0)
            announce(
                "cache_l2_down",
                {"cache": self._name, "retry_in_s": event.open_for},
                level="warning",
            )
        elif event.to_state is BreakerState.CLOSED:
            self._up.set(1)
            announce("cache_l2_up", {"cache": self._name})
