"""The benchmark's own Redis database index and PostgreSQL database, reset per phase."""

from __future__ import annotations

import re

import asyncpg
from redis.asyncio import Redis

from bench.scenario import Databases

_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


async def flush_redis(url: str) -> None:
    """FLUSHDB on the URL's database index (never FLUSHALL: others use other indexes)."""
    redis = Redis.from_url(url)
    try:
        await redis.flushdb()
    finally:
        await redis.aclose()


async def recreate_database(databases: Databases) -> None:
    """Drop (sessions forced out) and create the benchmark's database."""
    name = _checked(databases.database_name)
    connection = await asyncpg.connect(databases.admin_database_url, timeout=10)
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await connection.execute(f"CREATE DATABASE {name}")
    finally:
        await connection.close()


async def drop_database(databases: Databases) -> None:
    name = _checked(databases.database_name)
    connection = await asyncpg.connect(databases.admin_database_url, timeout=10)
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    finally:
        await connection.close()


async def reset(databases: Databases) -> None:
    await flush_redis(databases.redis_url)
    await recreate_database(databases)


def _checked(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError(f"database name must match {_NAME.pattern}, got {name!r}")
    return name
