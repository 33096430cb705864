"""PostgreSQL fixtures for the tracker's integration tests: one fresh schema per test."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio

from tests.conftest import START_POSTGRES
from tracker.adapters.postgres_store import PostgresSignalStore

from .pg import StoreFactory, with_search_path


@pytest_asyncio.fixture
async def schema_url(postgres_url: str) -> AsyncIterator[str]:
    """A DSN whose search_path is a fresh schema."""
    try:
        admin = await asyncpg.connect(postgres_url, timeout=5)
    except (OSError, asyncpg.PostgresError) as e:
        pytest.fail(
            f"PostgreSQL is not reachable at {postgres_url} ({e}); start it with: {START_POSTGRES}"
        )
    schema = f"tracker_test_{uuid.uuid4().hex[:12]}"
    await admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield with_search_path(postgres_url, schema)
    finally:
        await admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        await admin.close()


@pytest_asyncio.fixture
async def open_pg(schema_url: str) -> AsyncIterator[StoreFactory]:
    """Opens stores on the test's schema and closes them all at the end."""
    opened: list[PostgresSignalStore] = []

    async def factory(**options: object) -> PostgresSignalStore:
        store = PostgresSignalStore(schema_url, pool_max=4, **options)  # type: ignore[arg-type]
        opened.append(store)
        return store

    yield factory
    for store in opened:
        await store.aclose()
