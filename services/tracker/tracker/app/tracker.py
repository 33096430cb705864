"""Tracker use cases: record signals, page through them, summarise their outcomes."""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import structlog
from opentelemetry import trace

from tracker import telemetry
from tracker.domain import (
    MAX_PAGE_SIZE,
    InvalidQuery,
    InvalidSignal,
    OutcomeStats,
    PageToken,
    RecordResult,
    Signal,
    SignalFilter,
    SignalPage,
    StorageUnavailable,
    Violation,
    filter_violations,
    symbol_violation,
    validate_batch,
)
from tracker.ports import Clock, SignalStore

log = structlog.get_logger(__name__)
tracer = trace.get_tracer(__name__)
T = TypeVar("T")

DEFAULT_STATS_DAYS = 30
MAX_STATS_DAYS = 3650


@dataclass
class RecordTotals:
    """Running totals since start, reported by the health endpoint."""

    batches: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected_batches: int = 0
    record_seconds: float = 0.0


class TrackerApp:
    def __init__(
        self,
        store: SignalStore,
        clock: Clock,
        *,
        default_page_size: int = 100,
        slow_operation_seconds: float = 0.25,
    ) -> None:
        self._store = store
        self._clock = clock
        self.totals = RecordTotals()
        self.configure(
            default_page_size=default_page_size, slow_operation_seconds=slow_operation_seconds
        )

    def configure(self, *, default_page_size: int, slow_operation_seconds: float) -> None:
        """Apply hot-reloaded tunables."""
        if not 1 <= default_page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"default_page_size must be within 1..{MAX_PAGE_SIZE}")
        self._default_page_size = default_page_size
        self._slow_operation_seconds = slow_operation_seconds

    async def record_signals(self, signals: Sequence[Signal]) -> RecordResult:
        """Validate the whole batch, then store it idempotently (all or nothing)."""
        try:
            validate_batch(signals)
        except InvalidSignal as e:
            self.totals.rejected_batches += 1
            telemetry.BATCHES_REJECTED.inc()
            log.info("signal_batch_rejected", size=len(signals), violations=len(e.violations))
            raise
        with tracer.start_as_current_span("tracker.record_signals") as span:
            span.set_attribute("argo.signals.count", len(signals))
            started = self._clock.monotonic()
            result = await self._storage(
                "record", self._store.record(signals, record_time=self._clock.now())
            )
            elapsed = self._clock.monotonic() - started
            span.set_attribute("argo.signals.accepted", result.accepted)
            span.set_attribute("argo.signals.duplicate", result.duplicate)
        totals = self.totals
        totals.batches += 1
        totals.accepted += result.accepted
        totals.duplicates += result.duplicate
        totals.record_seconds += elapsed
        telemetry.SIGNALS_RECORDED.labels("accepted").inc(result.accepted)
        telemetry.SIGNALS_RECORDED.labels("duplicate").inc(result.duplicate)
        log.info("signals_recorded", accepted=result.accepted, duplicate=result.duplicate)
        return result

    async def query_signals(
        self, query: SignalFilter, page_size: int, page_token: str
    ) -> SignalPage:
        """One page, newest first; `page_size` 0 means the configured default."""
        violations: list[Violation] = filter_violations(query)
        if not 0 <= page_size <= MAX_PAGE_SIZE:
            violations.append(("page_size", f"must be within 0..{MAX_PAGE_SIZE}"))
        if violations:
            raise InvalidQuery(violations)
        fingerprint = query.fingerprint()
        after = None
        if page_token:
            token = PageToken.decode(page_token)
            if token.filter_fingerprint != fingerprint:
                raise InvalidQuery([("page_token", "was issued for a different filter")])
            after = token.cursor
        size = page_size or self._default_page_size
        with tracer.start_as_current_span("tracker.query_signals") as span:
            rows, cursor = await self._storage("query", self._store.query(query, size, after))
            span.set_attribute("argo.signals.count", len(rows))
        next_token = PageToken(cursor, fingerprint).encode() if cursor else ""
        return SignalPage(tuple(rows), next_token)

    async def outcome_stats(self, days: int, symbol: str | None) -> OutcomeStats:
        """Outcomes of signals created in the last `days` days (0 means 30)."""
        violations: list[Violation] = []
        if not 0 <= days <= MAX_STATS_DAYS:
            violations.append(("days", f"must be within 0..{MAX_STATS_DAYS}"))
        if symbol is not None and (problem := symbol_violation(symbol)) is not None:
            violations.append(("symbol", problem))
        if violations:
            raise InvalidQuery(violations)
        since = self._clock.now() - timedelta(days=days or DEFAULT_STATS_DAYS)
        with tracer.start_as_current_span("tracker.outcome_stats"):
            return await self._storage("outcome_stats", self._store.outcome_stats(since, symbol))

    def performance(self) -> dict[str, Any]:
        totals = self.totals
        return {
            "total_signals_recorded": totals.accepted,
            "total_duplicates": totals.duplicates,
            "total_batches_recorded": totals.batches,
            "total_batches_rejected": totals.rejected_batches,
            "avg_record_time": totals.record_seconds / totals.batches if totals.batches else 0.0,
            "database": self._store.backend,
        }

    async def _storage(self, operation: str, call: Awaitable[T]) -> T:
        """Await a store call, timing it and counting unavailability."""
        started = self._clock.monotonic()
        try:
            return await call
        except StorageUnavailable as e:
            telemetry.STORAGE_UNAVAILABLE.labels(operation).inc()
            log.warning("storage_unavailable", operation=operation, error=str(e))
            raise
        finally:
            elapsed = self._clock.monotonic() - started
            telemetry.STORAGE_SECONDS.labels(operation).observe(elapsed)
            if elapsed >= self._slow_operation_seconds:
                log.warning("storage_operation_slow", operation=operation, seconds=elapsed)
