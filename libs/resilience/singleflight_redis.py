"""Cross-replica single-flight: one replica calls upstream, the others read its result.

Hand-written (aiocache's RedLock and cashews' lock only serialise; they leave the waiters to
re-read a cache). Design, per key, on top of the in-process `SingleFlight`:
- The local leader tries `SET {prefix}:{key}:lease <token> NX PX lease_ttl`. Winning makes it
  the remote leader: it calls upstream, writes the outcome to `{prefix}:{key}:result:<token>`
  (value, or an error record) with a short TTL, then deletes its lease (compare-and-delete).
- Losers read the lease's token and poll `MGET result:<token>, lease` (ONE round trip per
  poll, backing off from `poll_interval` to `max_poll_interval`): a result ends the wait (an
  error is re-raised as `RemoteFlightFailed`); a lease that vanished or changed hands without
  a result (the leader died, or the result expired) makes them try to lead themselves. The
  token in the result key means a new flight never picks up an old flight's result.
- A leader whose call is cancelled (its last local waiter left) deletes its lease, so the
  followers take over at once instead of waiting out `lease_ttl`.
- Redis trouble never fails the call: the replica then simply calls upstream itself.
Values cross processes through a `Codec` (JSON by default). Followers wait at most one lease
(`lease_ttl`) per failed leader; callers bound the whole wait with their own deadline.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any, cast

from redis.asyncio import Redis
from redis.exceptions import RedisError

from resilience.clock import Clock, system_clock
from resilience.codec import Codec, JsonCodec, decode_error, encode_error
from resilience.metrics import SINGLEFLIGHT_CALLS, span_event
from resilience.pipeline import T
from resilience.singleflight import SingleFlight
from service_runtime.cancellation import raise_if_cancelling

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisSingleFlight:
    """Shares one upstream call per key across every replica using the same `prefix`."""

    def __init__(
        self,
        redis: Redis,
        *,
        name: str = "singleflight",
        prefix: str = "argo:sf",
        codec: Codec | None = None,
        lease_ttl: float = 5.0,
        result_ttl: float = 2.0,
        poll_interval: float = 0.01,
        max_poll_interval: float = 0.1,
        clock: Clock | None = None,
    ) -> None:
        self._redis = redis
        self._prefix = prefix
        self._codec = codec or JsonCodec()
        self._lease_ms = int(lease_ttl * 1000)
        self._result_ms = int(result_ttl * 1000)
        self._poll = (poll_interval, max_poll_interval)
        self._clock = clock or system_clock()
        self._local = SingleFlight(name)
        self._release = redis.register_script(_RELEASE)
        self._remote_leader = SINGLEFLIGHT_CALLS.labels(name, "remote_leader")
        self._remote_follower = SINGLEFLIGHT_CALLS.labels(name, "remote_follower")

    async def do(self, key: str, fn: Callable[[], Awaitable[T]]) -> T:
        """Run `fn` once per key across replicas (and once per key within this replica)."""
        return await self._local.do(key, lambda: self._across_replicas(key, fn))

    async def _across_replicas(self, key: str, fn: Callable[[], Awaitable[T]]) -> T:
        lease_key = f"{self._prefix}:{key}:lease"
        try:
            return await self._coordinate(key, lease_key, fn)
        except (RedisError, OSError) as e:
            span_event("singleflight_redis_unavailable", {"error": type(e).__name__})
            return await fn()

    async def _coordinate(self, key: str, lease_key: str, fn: Callable[[], Awaitable[T]]) -> T:
        token = uuid.uuid4().hex
        delay = self._poll[0]
        while True:
            if await self._redis.set(lease_key, token, nx=True, px=self._lease_ms):
                return await self._lead(key, lease_key, token, fn)
            holder = await self._redis.get(lease_key)
            while holder is not None:
                self._remote_follower.inc()
                raw, current = await self._redis.mget(self._result_key(key, holder), lease_key)
                if raw is not None:
                    return cast(T, self._decode(raw))
                if current != holder:
                    break
                raise_if_cancelling()  # redis-py can swallow a cancel on 3.11
                await self._clock.sleep(delay)
                delay = min(delay * 2, self._poll[1])

    async def _lead(
        self, key: str, lease_key: str, token: str, fn: Callable[[], Awaitable[T]]
    ) -> T:
        self._remote_leader.inc()
        result_key = self._result_key(key, token)
        try:
            raise_if_cancelling()  # a cancel redis-py swallowed while the lease was taken
            value = await fn()
        except asyncio.CancelledError:
            await self._give_up(lease_key, token)
            raise
        except Exception as e:
            await self._publish(result_key, b"e" + encode_error(e), lease_key, token)
            raise
        await self._publish(result_key, b"v" + self._codec.dumps(value), lease_key, token)
        return value

    async def _publish(self, result_key: str, payload: bytes, lease_key: str, token: str) -> None:
        try:
            await self._redis.set(result_key, payload, px=self._result_ms)
            await self._release(keys=[lease_key], args=[token])
        except (RedisError, OSError) as e:
            span_event("singleflight_publish_failed", {"error": type(e).__name__})

    async def _give_up(self, lease_key: str, token: str) -> None:
        """Delete our lease (best effort): followers lead on their next poll."""
        try:
            await self._release(keys=[lease_key], args=[token])
        except (RedisError, OSError) as e:
            span_event("singleflight_release_failed", {"error": type(e).__name__})

    def _result_key(self, key: str, token: Any) -> str:
        text = token.decode() if isinstance(token, bytes) else str(token)
        return f"{self._prefix}:{key}:result:{text}"

    def _decode(self, raw: bytes | str) -> Any:
        if isinstance(raw, str):  # a client built with decode_responses=True
            raw = raw.encode()
        if raw[:1] == b"e":
            raise decode_error(raw[1:])
        return self._codec.loads(raw[1:])
