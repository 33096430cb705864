"""The gateway's Redis client: one blocking connection pool shared by the L2 caches and the
rate-limit ledger.

redis-py's default pool raises at once when every connection is busy, so a burst larger than
the pool (a cold start over hundreds of symbols) turned into Redis failures: the caches
worked from L1 alone, their Redis circuit could open, and the limiter fell back to its
per-replica share. A ``BlockingConnectionPool`` queues such a burst instead, for at most
``pool_wait_seconds``; a wait longer than that still counts as a Redis failure, so a Redis
that has stopped answering is not waited on indefinitely.
"""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis

REDIS_TIMEOUT_SECONDS = 0.25  # one probe of a hung Redis costs little (see cache_l2)


def open_redis(url: str, *, max_connections: int, pool_wait_seconds: float) -> Redis:
    """A client over a pool of at most ``max_connections``, each call waiting at most
    ``pool_wait_seconds`` for a free one; socket operations time out after 0.25 s."""
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=pool_wait_seconds,
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
    )
    return Redis.from_pool(pool)
