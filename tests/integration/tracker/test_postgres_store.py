"""PostgreSQL adapter: the shared storage contract plus what is specific to PostgreSQL.

Each test gets its own schema (dropped afterwards), so runs never see each other's rows.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import asyncpg
import pytest
import pytest_asyncio

from tests.conftest import START_POSTGRES
from tests.unit.tracker.factories import T0, make_series
from tests.unit.tracker.store_contract import SignalStoreContract
from tracker.adapters.postgres_store import PostgresSignalStore
from tracker.domain import SignalFilter

pytestmark = pytest.mark.integration

StoreFactory = Callable[..., Awaitable[PostgresSignalStore]]

MIGRATIONS = [
    (1, "signals"),
    (2, "outcome_tracking"),
    (3, "calibrations_archives"),
    (4, "analytics_views"),
]


def with_search_path(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}search_path={schema}"


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


class TestPostgresSignalStore(SignalStoreContract):
    @pytest_asyncio.fixture
    async def store(self, open_pg: StoreFactory) -> PostgresSignalStore:
        pg_store = await open_pg()
        await pg_store.migrate()
        return pg_store


@pytest.mark.asyncio
async def test_concurrent_replicas_apply_each_migration_once(
    open_pg: StoreFactory, schema_url: str
) -> None:
    stores = [await open_pg() for _ in range(4)]
    await asyncio.gather(*(s.migrate() for s in stores))
    conn = await asyncpg.connect(schema_url)
    try:
        rows = await conn.fetch("SELECT version, name FROM schema_migrations")
        kinds = await conn.fetch(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND table_name = 'signals' "
            "AND column_name IN ('signal_id', 'create_time', 'lineage')"
        )
    finally:
        await conn.close()
    assert [tuple(r) for r in rows] == MIGRATIONS
    assert {r["column_name"]: r["data_type"] for r in kinds} == {
        "signal_id": "uuid",
        "create_time": "timestamp with time zone",
        "lineage": "jsonb",
    }


@pytest.mark.asyncio
async def test_every_pooled_connection_carries_the_statement_timeout(
    open_pg: StoreFactory,
) -> None:
    store = await open_pg(statement_timeout_ms=1234)
    pool = await store._get_pool()  # peek at the pool: the setting is not otherwise visible
    settings = await asyncio.gather(*(pool.fetchval("SHOW statement_timeout") for _ in range(4)))
    assert set(settings) == {"1234ms"}


@pytest.mark.asyncio
async def test_concurrent_batches_with_overlapping_ids_store_each_signal_once(
    open_pg: StoreFactory,
) -> None:
    store = await open_pg()
    signals = make_series(200)
    halves = [signals[:120], signals[80:]]
    results = await asyncio.gather(*(store.record(h, record_time=T0) for h in halves))
    assert sum(r.accepted for r in results) == 200
    assert sum(r.duplicate for r in results) == 40
    rows, _ = await store.query(SignalFilter(), 1000, None)
    assert len(rows) == 200
