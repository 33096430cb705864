"""Tracker use cases: record signals (answering per item), page through them across the
hot store and the archive, summarise their outcomes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import structlog
from opentelemetry import trace

from tracker import telemetry
from tracker.app.archive_query import ArchivedRows, merge_archived
from tracker.app.storage import StorageCalls
from tracker.domain import (
    MAX_BATCH_SIZE,
    MAX_PAGE_SIZE,
    BatchResult,
    InvalidQuery,
    InvalidSignal,
    ItemResult,
    OutcomeStats,
    PageToken,
    RecordStatus,
    Signal,
    SignalFilter,
    SignalPage,
    Violation,
    filter_violations,
    signal_violations,
    symbol_violation,
)
from tracker.ports import Clock, SignalStore

log = structlog.get_logger(__name__)
tracer = trace.get_tracer(__name__)

DEFAULT_STATS_DAYS = 30
MAX_STATS_DAYS = 3650


@dataclass
class RecordTotals:
    """Running totals since start, reported by the health endpoint."""

    batches: int = 0
    accepted: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejected_batches: int = 0
    record_seconds: float = 0.0


class TrackerApp:
    def __init__(
        self,
        store: SignalStore,
        clock: Clock,
        *,
        archive: ArchivedRows | None = None,
        default_page_size: int = 100,
        slow_operation_seconds: float = 0.25,
    ) -> None:
        self._store = store
        self._clock = clock
        self._archive = archive
        self._storage = StorageCalls(clock)
        self.totals = RecordTotals()
        self.configure(
            default_page_size=default_page_size, slow_operation_seconds=slow_operation_seconds
        )

    def configure(self, *, default_page_size: int, slow_operation_seconds: float) -> None:
        """Apply hot-reloaded tunables."""
        if not 1 <= default_page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"default_page_size must be within 1..{MAX_PAGE_SIZE}")
        self._default_page_size = default_page_size
        self._storage.slow_seconds = slow_operation_seconds

    async def record_signals(
        self, items: Sequence[Signal | ItemResult], *, all_or_nothing: bool = False
    ) -> BatchResult:
        """Store the valid signals idempotently (one transaction) and answer every item.

        `items` are signals, or REJECTED results for items the edge could not even map.
        With `all_or_nothing`, any invalid item raises InvalidSignal and nothing is stored.
        A StorageUnavailable from the store means nothing of the batch was stored.
        """
        if not 1 <= len(items) <= MAX_BATCH_SIZE:
            self._reject_batch(len(items))
            raise InvalidSignal([("signals", f"must hold 1..{MAX_BATCH_SIZE} signals")])
        answers: list[ItemResult | None] = []
        valid: list[Signal] = []
        for item in items:
            if isinstance(item, ItemResult):
                answers.append(item)
            elif found := signal_violations(item):
                answers.append(_rejected(item.signal_id, found))
            else:
                answers.append(None)
                valid.append(item)
        rejected = [(i, a) for i, a in enumerate(answers) if a is not None]
        if all_or_nothing and rejected:
            self._reject_batch(len(items))
            raise InvalidSignal(
                [(f"signals[{i}].{f}", d) for i, a in rejected for f, d in a.violations]
            )
        stored = await self._store_valid(valid)
        seen: set[str] = set()
        results: list[ItemResult] = []
        for item, answer in zip(items, answers, strict=True):
            if answer is None:
                assert isinstance(item, Signal)
                new = item.signal_id in stored and item.signal_id not in seen
                seen.add(item.signal_id)
                status = RecordStatus.ACCEPTED if new else RecordStatus.DUPLICATE
                answer = ItemResult(signal_id=item.signal_id, status=status)
            results.append(answer)
        batch = BatchResult(tuple(results))
        self._count(batch)
        return batch

    async def _store_valid(self, signals: list[Signal]) -> frozenset[str]:
        if not signals:
            return frozenset()
        with tracer.start_as_current_span("tracker.record_signals") as span:
            span.set_attribute("argo.signals.count", len(signals))
            started = self._clock.monotonic()
            result = await self._storage(
                "record", self._store.record(signals, record_time=self._clock.now())
            )
            self.totals.record_seconds += self._clock.monotonic() - started
            span.set_attribute("argo.signals.accepted", result.accepted)
            span.set_attribute("argo.signals.duplicate", result.duplicate)
        return result.accepted_ids

    def _count(self, batch: BatchResult) -> None:
        totals = self.totals
        totals.batches += 1
        totals.accepted += batch.accepted
        totals.duplicates += batch.duplicate
        totals.rejected += batch.rejected
        for status in RecordStatus:
            telemetry.SIGNALS_RECORDED.labels(status.value.lower()).inc(batch.count(status))
        log.info(
            "signals_recorded",
            accepted=batch.accepted,
            duplicate=batch.duplicate,
            rejected=batch.rejected,
        )

    def _reject_batch(self, size: int) -> None:
        self.totals.rejected_batches += 1
        telemetry.BATCHES_REJECTED.inc()
        log.info("signal_batch_rejected", size=size)

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
            if self._archive is not None:
                rows, cursor = await merge_archived(
                    self._archive, self._store, query, size, after, rows, cursor
                )
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
            "total_signals_rejected": totals.rejected,
            "total_batches_recorded": totals.batches,
            "total_batches_rejected": totals.rejected_batches,
            "avg_record_time": totals.record_seconds / totals.batches if totals.batches else 0.0,
            "database": self._store.backend,
        }


def _rejected(signal_id: str, violations: list[Violation]) -> ItemResult:
    return ItemResult(
        signal_id=signal_id, status=RecordStatus.REJECTED, violations=tuple(violations)
    )
