"""TrackerStore on PostgreSQL (asyncpg pool): the store for replicated deployments.

Batch inserts are COPY-based by default (postgres_ingest.py; the UNNEST statement is the
alternative the benchmark compares). Outcome claims lock rows FOR UPDATE SKIP LOCKED
(postgres_outcomes.py); calibrations, archive manifests and analytics views live in
postgres_records.py. Every value is a bound parameter; only SQL structure is assembled in
Python.

Each pooled connection starts with `statement_timeout` (and `application_name`) set as
server settings, so no statement can hold a connection longer than the budget, and with
`idle_in_transaction_session_timeout`, so a claim whose holder hangs releases its locks.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import date, datetime
from typing import Any, Concatenate, ParamSpec, TypeVar

import asyncpg
import structlog

from tracker.adapters import postgres_records as records
from tracker.adapters.migrations.postgres_runner import apply_migrations
from tracker.adapters.postgres_errors import translate_errors
from tracker.adapters.postgres_ingest import IngestMethod, insert_batch, prepare_connection
from tracker.adapters.postgres_outcomes import PostgresClaim, claim
from tracker.adapters.sql_common import (
    NEWEST_FIRST,
    OUTCOME_STATS_COLUMNS,
    SELECT_COLUMNS,
    Params,
    stats_from_row,
    tracked_from_row,
    where_clause,
)
from tracker.domain import (
    Analytics,
    ArchiveManifest,
    Calibration,
    OutcomeResolution,
    OutcomeSample,
    OutcomeStats,
    RecordResult,
    Signal,
    SignalCursor,
    SignalFilter,
    StorageUnavailable,
    TrackedSignal,
)

log = structlog.get_logger(__name__)

IDLE_IN_TRANSACTION_MS = 60_000
P = ParamSpec("P")
T = TypeVar("T")


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
        ingest: IngestMethod = IngestMethod.COPY,
    ) -> None:
        self._dsn = dsn
        self._ingest = ingest
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
                    with translate_errors():
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
                "idle_in_transaction_session_timeout": str(IDLE_IN_TRANSACTION_MS),
                "application_name": "argo-tracker",
            },
            init=prepare_connection,
        )

    async def record(self, signals: Sequence[Signal], *, record_time: datetime) -> RecordResult:
        pool = await self._get_pool()
        with translate_errors():
            async with pool.acquire() as conn:
                inserted = await insert_batch(conn, signals, record_time, self._ingest)
        return RecordResult(
            accepted=len(inserted), duplicate=len(signals) - len(inserted), accepted_ids=inserted
        )

    async def query(
        self, query: SignalFilter, page_size: int, after: SignalCursor | None
    ) -> tuple[list[TrackedSignal], SignalCursor | None]:
        pool = await self._get_pool()
        params = Params(numbered=True)
        where = where_clause(query, after, params, lambda instant: instant)
        limit = params.add(page_size + 1)
        sql = f"SELECT {SELECT_COLUMNS} FROM signals {where} {NEWEST_FIRST} LIMIT {limit}"
        with translate_errors():
            rows = await pool.fetch(sql, *params.values)
        # asyncpg already returns timestamptz as UTC-aware datetimes.
        found = [tracked_from_row(row, _as_is) for row in rows[:page_size]]
        more = len(rows) > page_size
        return found, (SignalCursor.after(found[-1]) if more and found else None)

    async def known_ids(self, ids: Sequence[str]) -> set[str]:
        pool = await self._get_pool()
        with translate_errors():
            rows = await pool.fetch(
                "SELECT signal_id FROM signals WHERE signal_id = ANY($1::uuid[])", list(ids)
            )
        return {str(row["signal_id"]) for row in rows}

    async def outcome_stats(self, since: datetime, symbol: str | None) -> OutcomeStats:
        pool = await self._get_pool()
        params: list[Any] = [since]
        sql = f"SELECT {OUTCOME_STATS_COLUMNS} FROM signals WHERE create_time >= $1"
        if symbol is not None:
            sql += " AND symbol = $2"
            params.append(symbol)
        with translate_errors():
            row = await pool.fetchrow(sql, *params)
        return stats_from_row(row)

    async def resolve(self, resolution: OutcomeResolution) -> bool:
        pool = await self._get_pool()
        r = resolution
        sql = (
            "UPDATE signals SET outcome = $1, exit_price = $2, exit_time = $3, pnl_percent = $4 "
            "WHERE signal_id = $5 AND outcome = 'OPEN'"
        )
        with translate_errors():
            status = await pool.execute(
                sql, r.outcome.value, r.exit_price, r.exit_time, r.pnl_percent, r.signal_id
            )
        return bool(status == "UPDATE 1")

    @contextlib.asynccontextmanager
    async def claim_open(
        self, due_before: datetime, limit: int, *, checked_at: datetime
    ) -> AsyncIterator[PostgresClaim]:
        pool = await self._get_pool()
        with translate_errors():
            async with claim(pool, due_before, limit, checked_at) as claimed:
                yield claimed

    async def count_open(self) -> int:
        pool = await self._get_pool()
        with translate_errors():
            return int(await pool.fetchval("SELECT count(*) FROM signals WHERE outcome = 'OPEN'"))

    async def outcome_samples(self, since: datetime) -> list[OutcomeSample]:
        return await self._run(records.outcome_samples, since)

    async def save_calibrations(self, calibrations: Sequence[Calibration]) -> None:
        await self._run(records.save_calibrations, calibrations)

    async def load_calibrations(self) -> list[Calibration]:
        return await self._run(records.load_calibrations)

    async def days_before(self, cutoff: datetime) -> list[date]:
        return await self._run(records.days_before, cutoff)

    async def delete_signals(self, start: datetime, end: datetime, ids: Sequence[str]) -> int:
        return await self._run(records.delete_signals, start, end, ids)

    async def save_manifest(self, manifest: ArchiveManifest) -> None:
        await self._run(records.save_manifest, manifest)

    async def list_manifests(
        self,
        first: date | None,
        last: date | None,
        limit: int,
        *,
        pruned_only: bool = False,
    ) -> list[ArchiveManifest]:
        return await self._run(records.list_manifests, first, last, limit, pruned_only)

    async def analytics(self, since: date, symbol: str | None) -> Analytics:
        return await self._run(records.analytics, since, symbol)

    async def refresh_analytics(self, refresh_time: datetime) -> bool:
        return await self._run(records.refresh_analytics, refresh_time)

    async def _run(
        self,
        operation: Callable[Concatenate[asyncpg.Pool, P], Awaitable[T]],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> T:
        """Await `operation(pool, *args)` with errors translated."""
        pool = await self._get_pool()
        with translate_errors():
            return await operation(pool, *args, **kwargs)

    async def ping(self) -> bool:
        try:
            pool = await self._get_pool()
            with translate_errors():
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
