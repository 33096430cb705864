"""PostgreSQL adapter: the shared storage contract plus what is specific to PostgreSQL.

Each test gets its own schema (dropped afterwards), so runs never see each other's rows.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import pytest
import pytest_asyncio

from tests.unit.tracker.factories import T0, make_series
from tests.unit.tracker.store_contract import TrackerStoreContract
from tracker.adapters.postgres_ingest import IngestMethod
from tracker.adapters.postgres_store import PostgresSignalStore
from tracker.domain import SignalFilter

from .pg import MIGRATIONS, StoreFactory

pytestmark = pytest.mark.integration


class TestPostgresSignalStore(TrackerStoreContract):
    @pytest_asyncio.fixture(params=[IngestMethod.COPY, IngestMethod.UNNEST])
    async def store(
        self, migrated_url: str, request: pytest.FixtureRequest
    ) -> AsyncIterator[PostgresSignalStore]:
        pg_store = PostgresSignalStore(migrated_url, pool_max=4, ingest=request.param)
        await pg_store.migrate()
        yield pg_store
        await pg_store.aclose()


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


@pytest.mark.asyncio
async def test_replicas_claim_disjoint_open_signals_while_claims_are_held(
    open_pg: StoreFactory,
) -> None:
    first, second = await open_pg(), await open_pg()  # two pools: two replicas
    await first.record(make_series(6), record_time=T0)
    now = T0 + timedelta(hours=1)
    async with first.claim_open(now, 4, checked_at=now) as claim_a:
        async with second.claim_open(now, 4, checked_at=now) as claim_b:
            ids_a = {o.signal.signal_id for o in claim_a.signals}
            ids_b = {o.signal.signal_id for o in claim_b.signals}
    assert len(ids_a) == 4 and len(ids_b) == 2  # SKIP LOCKED: the rest, not a wait
    assert not ids_a & ids_b


@pytest.mark.asyncio
async def test_analytics_refresh_is_concurrent_and_one_replica_at_a_time(
    open_pg: StoreFactory, schema_url: str
) -> None:
    store = await open_pg()
    await store.migrate()
    await store.record(make_series(3), record_time=T0)
    stale = await store.analytics(T0.date(), None)
    assert stale.daily == () and stale.refresh_time is None  # not refreshed yet
    assert await store.refresh_analytics(T0 + timedelta(minutes=5)) is True
    fresh = await store.analytics(T0.date(), None)
    assert [d.signals for d in fresh.daily] == [3]
    assert fresh.refresh_time == T0 + timedelta(minutes=5)
    holder = await asyncpg.connect(schema_url)
    try:
        async with holder.transaction():
            await holder.execute(
                "SELECT pg_advisory_xact_lock("
                "hashtext('argo.tracker.analytics_refresh:' || current_schema()))"
            )
            assert await store.refresh_analytics(T0 + timedelta(minutes=10)) is False
    finally:
        await holder.close()
    # CONCURRENTLY needs a unique index on every view; the refresh above proved it works.
    views = await store._run(
        lambda pool: pool.fetch(
            "SELECT matviewname FROM pg_matviews WHERE schemaname = current_schema()"
        )
    )
    assert {v["matviewname"] for v in views} == {
        "daily_signal_summary",
        "symbol_performance",
        "confidence_stats",
    }


@pytest.mark.asyncio
async def test_copy_and_unnest_store_identical_rows(open_pg: StoreFactory) -> None:
    copy_store = await open_pg(ingest=IngestMethod.COPY)
    signals = make_series(50)
    await copy_store.record(signals[:25], record_time=T0)
    unnest_store = await open_pg(ingest=IngestMethod.UNNEST)
    result = await unnest_store.record(signals, record_time=T0)
    assert (result.accepted, result.duplicate) == (25, 25)
    rows, _ = await copy_store.query(SignalFilter(), 100, None)
    assert len(rows) == 50
    assert {t.signal for t in rows} == set(signals)
