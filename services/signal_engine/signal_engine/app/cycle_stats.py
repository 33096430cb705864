"""Counters and a bounded window of cycle durations behind GetEngineStats."""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

WINDOW = 1000  # recent cycles kept for percentiles


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of `values`; 0 when empty."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100.0 * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True, kw_only=True)
class EngineStats:
    cycles_total: int
    cycle_time_p50_ms: float
    cycle_time_p99_ms: float
    avg_cycle_seconds: float
    skip_rate: float
    upstream_calls_per_cycle: float
    symbols_processed_total: int
    symbols_skipped_total: int
    signals_published_total: int
    signals_deduplicated_total: int
    outbox_depth: int
    outbox_refused_total: int
    delivered_total: int
    stream_dropped_total: int
    last_cycle_time: datetime | None
    symbols: tuple[str, ...]  # owned by this replica now
    configured_symbols: tuple[str, ...]
    replica_id: str


class CycleStats:
    """Mutable tallies; `snapshot()` freezes them into EngineStats."""

    def __init__(self) -> None:
        self.cycles = 0
        self.durations: deque[float] = deque(maxlen=WINDOW)
        self.cycle_upstream_calls = 0
        self.processed = 0
        self.skipped = 0
        self.published = 0
        self.deduplicated = 0
        self.last_cycle_time: datetime | None = None

    def record_cycle(self, seconds: float, upstream_calls: int, ended: datetime) -> None:
        self.cycles += 1
        self.durations.append(seconds)
        self.cycle_upstream_calls += upstream_calls
        self.last_cycle_time = ended

    def snapshot(
        self,
        *,
        outbox_depth: int,
        outbox_refused: int,
        delivered: int,
        stream_dropped: int,
        symbols: Sequence[str],
        configured_symbols: Sequence[str],
        replica_id: str,
    ) -> EngineStats:
        window = list(self.durations)
        return EngineStats(
            cycles_total=self.cycles,
            cycle_time_p50_ms=percentile(window, 50) * 1000.0,
            cycle_time_p99_ms=percentile(window, 99) * 1000.0,
            avg_cycle_seconds=math.fsum(window) / len(window) if window else 0.0,
            skip_rate=self.skipped / self.processed if self.processed else 0.0,
            upstream_calls_per_cycle=(
                self.cycle_upstream_calls / self.cycles if self.cycles else 0.0
            ),
            symbols_processed_total=self.processed,
            symbols_skipped_total=self.skipped,
            signals_published_total=self.published,
            signals_deduplicated_total=self.deduplicated,
            outbox_depth=outbox_depth,
            outbox_refused_total=outbox_refused,
            delivered_total=delivered,
            stream_dropped_total=stream_dropped,
            last_cycle_time=self.last_cycle_time,
            symbols=tuple(symbols),
            configured_symbols=tuple(configured_symbols),
            replica_id=replica_id,
        )
