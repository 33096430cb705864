"""SignalStore on PostgreSQL (asyncpg pool): the store for replicated deployments.

Batch insert: one `INSERT ... SELECT FROM unnest($1::uuid[], ...) ON CONFLICT (signal_id)
DO NOTHING RETURNING signal_id`. We chose it over COPY into a temp table because a batch
(at most 1000 rows) then costs one statement and one round trip, is atomic on its own (one
statement is one transaction), needs no per-batch temp table (COPY would create and drop
one per transaction, churning the system catalogs), and RETURNING yields exactly the ids
that were new, so accepted/duplicate counts are exact even for an id repeated inside the
batch. Every value is a bound parameter; only SQL structure is assembled in Python.

Each pooled connection starts with `statement_timeout` (and `application_name`) set as
server settings, so no statement can hold a connection longer than the budget.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import asyncpg
import structlog

from tracker.adapters.migrations.postgres_runner import apply_migrations
from tracker.adapters.sql_common import (
    NEWEST_FIRST,
    OUTCOME_STATS_COLUMNS,
    SELECT_COLUMNS,
    SIGNAL_COLUMNS,
    Params,
    lineage_to_json,
    stats_from_row,
    tracked_from_row,
    where_clause,
)
from tracker.domain import (
    OutcomeResolution,
    OutcomeStats,
    RecordResult,
    Signal,
    SignalCursor,
    SignalFilter,
    StorageUnavailable,
    TrackedSignal,
)

log = structlog.get_logger(__name__)

_INSERT = f"""
INSERT INTO signals ({SIGNAL_COLUMNS}, record_time)
SELECT s.signal_id, s.symbol, s.action, s.confidence, s.raw_confidence, s.entry_price,
       s.target_price, s.stop_price, s.create_time, s.expire_time, s.regime,
       s.lineage::jsonb, s.trace_id, $14
FROM unnest($1::uuid[], $2::text[], $3::text[], $4::float8[], $5::float8[], $6::float8[],
            $7::float8[], $8::float8[], $9::timestamptz[], $10::timestamptz[], $11::text[],
            $12::text[], $13::text[])
     AS s({SIGNAL_COLUMNS})
ON CONFLICT (signal_id) DO NOTHING
RETURNING signal_id
"""
# Failures that mean "PostgreSQL cannot serve now" (connection lost or refused, server
# shutting down, statement timeout, too many connections, serialization failure, wrong
# credentials or database while it is being provisioned); anything else is a bug.
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.CannotConnectNowError,
    asyncpg.OperatorInterventionError,
    asyncpg.InsufficientResourcesError,
    asyncpg.TransactionRollbackError,
    asyncpg.InvalidAuthorizationSpecificationError,
    asyncpg.InvalidCatalogNameError,
)


@contextlib.contextmanager
def _translate_errors() -> Iterator[None]:
    """The one choke point turning asyncpg failures into StorageUnavailable (or not)."""
    try:
        yield
    except _UNAVAILABLE as e:
        raise StorageUnavailable(f"PostgreSQL is unavailable: {type(e).__name__}: {e}") from e


class PostgresSignalStore:
    backend = "postgresql"

    def __init__(
        self,
        dsn: str,
        *,
        statement_timeout_ms: int = 5000,
        pool_min: int = 1,
        pool_max: int = 10,
        connect_timeout_seconds: float = 5.0,
    ) -> None:
        self._dsn = dsn
        self._statement_timeout_ms = statement_timeout_ms
        self._pool_min = pool_min
        self._pool_max = pool_max
        self._connect_timeout = connect_timeout_seconds
        self._pool: asyncpg.Pool | None = None
        self._open_lock = asyncio.Lock()
        self._closed = False
        self._ping_failing = False

    async def migrate(self) -> None:
        await self._get_pool()

    async def _get_pool(self) -> asyncpg.Pool:
        if self._pool is None:
            async with self._open_lock:
                if self._closed:
                    raise StorageUnavailable("the PostgreSQL store is closed")
                if self._pool is None:
                    with _translate_errors():
                        pool = await self._create_pool()
                        try:
                            async with pool.acquire() as conn:
                                await apply_migrations(conn)
                        except BaseException:
                            pool.terminate()
                            raise
                    self._pool = pool
        return self._pool

    async def _create_pool(self) -> asyncpg.Pool:
        return await asyncpg.create_pool(
            self._dsn,
            min_size=self._pool_min,
            max_size=self._pool_max,
            timeout=self._connect_timeout,
            # The client-side bound is a little above the server's, for a lost network.
            command_timeout=self._statement_timeout_ms / 1000 + 2.0,
            server_settings={
                "statement_timeout": str(self._statement_timeout_ms),
                "application_name": "argo-tracker",
            },
        )

    async def record(self, signals: Sequence[Signal], *, record_time: datetime) -> RecordResult:
        pool = await self._get_pool()
        columns: list[list[Any]] = [[] for _ in range(13)]
        for s in signals:
            values = (
                s.signal_id,
                s.symbol,
                s.action.value,
                s.confidence,
                s.raw_confidence,
                s.entry_price,
                s.target_price,
                s.stop_price,
                s.create_time,
                s.expire_time,
                s.regime.value,
                lineage_to_json(s.lineage),
                s.trace_id,
            )
            for column, value in zip(columns, values, strict=True):
                column.append(value)
        with _translate_errors():
            inserted = await pool.fetch(_INSERT, *columns, record_time)
        return RecordResult(accepted=len(inserted), duplicate=len(signals) - len(inserted))

    async def query(
        self, query: SignalFilter, page_size: int, after: SignalCursor | None
    ) -> tuple[list[TrackedSignal], SignalCursor | None]:
        pool = await self._get_pool()
        params = Params(numbered=True)
        where = where_clause(query, after, params, lambda instant: instant)
        limit = params.add(page_size + 1)
        sql = f"SELECT {SELECT_COLUMNS} FROM signals {where} {NEWEST_FIRST} LIMIT {limit}"
        with _translate_errors():
            rows = await pool.fetch(sql, *params.values)
        # asyncpg already returns timestamptz as UTC-aware datetimes.
        found = [tracked_from_row(row, _as_is) for row in rows[:page_size]]
        more = len(rows) > page_size
        return found, (SignalCursor.after(found[-1]) if more and found else None)

    async def outcome_stats(self, since: datetime, symbol: str | None) -> OutcomeStats:
        pool = await self._get_pool()
        params: list[Any] = [since]
        sql = f"SELECT {OUTCOME_STATS_COLUMNS} FROM signals WHERE create_time >= $1"
        if symbol is not None:
            sql += " AND symbol = $2"
            params.append(symbol)
        with _translate_errors():
            row = await pool.fetchrow(sql, *params)
        return stats_from_row(row)

    async def resolve(self, resolution: OutcomeResolution) -> bool:
        pool = await self._get_pool()
        r = resolution
        sql = (
            "UPDATE signals SET outcome = $1, exit_price = $2, exit_time = $3, pnl_percent = $4 "
            "WHERE signal_id = $5 AND outcome = 'OPEN'"
        )
        with _translate_errors():
            status = await pool.execute(
                sql, r.outcome.value, r.exit_price, r.exit_time, r.pnl_percent, r.signal_id
            )
        return bool(status == "UPDATE 1")

    async def ping(self) -> bool:
        try:
            pool = await self._get_pool()
            with _translate_errors():
                ok = bool(await pool.fetchval("SELECT 1", timeout=2.0) == 1)
        except StorageUnavailable as e:
            if not self._ping_failing:  # once per outage; readiness probes often
                log.warning("postgres_ping_failed", error=str(e))
            self._ping_failing = True
            return False
        if self._ping_failing:
            log.info("postgres_ping_recovered")
        self._ping_failing = False
        return ok

    async def aclose(self) -> None:
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is None:
            return
        try:
            await asyncio.wait_for(pool.close(), timeout=5.0)
        except TimeoutError:
            log.warning("postgres_pool_close_timed_out")
            pool.terminate()


def _as_is(instant: datetime) -> datetime:
    return instant
