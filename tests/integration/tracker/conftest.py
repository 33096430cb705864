"""PostgreSQL fixtures for the tracker's integration tests.

`schema_url` gives a test its own fresh, empty schema (for migration tests); `migrated_url`
is one schema migrated once per session and emptied before each test that uses it, which
is much cheaper for the many contract tests.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
import pytest_asyncio

from tests.conftest import START_POSTGRES
from tracker.adapters.migrations.postgres_runner import apply_migrations
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


async def _connect(url: str) -> asyncpg.Connection:
    try:
        return await asyncpg.connect(url, timeout=5)
    except (OSError, asyncpg.PostgresError) as e:
        pytest.fail(f"PostgreSQL is not reachable at {url} ({e}); start it with: {START_POSTGRES}")


@pytest.fixture(scope="session")
def _migrated_schema(postgres_url: str) -> Iterator[str]:
    schema = f"tracker_shared_{uuid.uuid4().hex[:12]}"
    url = with_search_path(postgres_url, schema)

    async def create() -> None:
        conn = await _connect(postgres_url)
        try:
            await conn.execute(f'CREATE SCHEMA "{schema}"')
            await conn.execute(f'SET search_path = "{schema}"')
            await apply_migrations(conn)
        finally:
            await conn.close()

    async def drop() -> None:
        conn = await _connect(postgres_url)
        try:
            await conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
        finally:
            await conn.close()

    asyncio.run(create())
    try:
        yield url
    finally:
        asyncio.run(drop())


@pytest_asyncio.fixture
async def migrated_url(_migrated_schema: str) -> str:
    """A DSN on the session's migrated schema, emptied for this test."""
    conn = await _connect(_migrated_schema)
    try:
        # DELETE (one transaction, one commit) is far cheaper than TRUNCATE for a few rows.
        # The analytics views keep the last test's data until refreshed: tests that read
        # them refresh first.
        await conn.execute(
            "DELETE FROM signals; DELETE FROM calibrations; DELETE FROM archives; "
            "DELETE FROM analytics_refresh"
        )
    finally:
        await conn.close()
    return _migrated_schema
