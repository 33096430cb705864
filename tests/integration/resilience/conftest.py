"""Real-Redis fixtures for the resilience integration tests (unique key prefix per test)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from redis.asyncio import Redis


@pytest.fixture
def prefix() -> str:
    """A key prefix no other test (or concurrent run) uses."""
    return f"test:resilience:{uuid.uuid4().hex[:12]}"


@pytest_asyncio.fixture
async def redis(redis_url: str, prefix: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()
