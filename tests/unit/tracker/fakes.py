"""In-memory fakes of the tracker's ports (the store passes the storage contract suite)."""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections import defaultdict
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from tracker.domain import (
    Action,
    Analytics,
    ArchiveManifest,
    ArchiveUnavailable,
    Calibration,
    ConfidenceBucket,
    DailySummary,
    LifecycleTier,
    OpenSignal,
    Outcome,
    OutcomeResolution,
    OutcomeSample,
    OutcomeStats,
    PriceBar,
    PriceDataUnavailable,
    PriceTick,
    Progress,
    RecordResult,
    Signal,
    SignalCursor,
    SignalFilter,
    StorageUnavailable,
    SymbolPerformance,
    TrackedSignal,
    day_of,
)


@dataclass
class _Tracking:
    checked_through: datetime
    checked_at: datetime


class FakeClaim:
    def __init__(self, store: FakeSignalStore, signals: list[OpenSignal], at: datetime) -> None:
        self._store = store
        self._signals = signals
        self._at = at

    @property
    def signals(self) -> Sequence[OpenSignal]:
        return self._signals

    async def settle(
        self, resolutions: Sequence[OutcomeResolution], progress: Sequence[Progress]
    ) -> list[str]:
        await self._store._enter()
        resolved = [r.signal_id for r in resolutions if self._store._resolve(r)]
        for r in resolutions:
            self._store.tracking[r.signal_id].checked_at = self._at
        for p in progress:
            row = self._store.rows.get(p.signal_id)
            if row is None or row.outcome is not Outcome.OPEN:
                continue
            self._store.rows[p.signal_id] = replace(
                row, mark_price=p.mark_price, mark_time=p.mark_time
            )
            self._store.tracking[p.signal_id] = _Tracking(p.checked_through, self._at)
        return resolved


class FakeSignalStore:
    """A TrackerStore in dicts. Set `unavailable` to make every call fail as a lost
    database would, `error` to raise that exception instead (a bug), or `blocked` to make
    calls wait until it is set."""

    backend = "memory"

    def __init__(self) -> None:
        self.rows: dict[str, TrackedSignal] = {}
        self.tracking: dict[str, _Tracking] = {}
        self.calibrations: list[Calibration] = []
        self.manifests: dict[date, ArchiveManifest] = {}
        self.unavailable = False
        self.error: Exception | None = None
        self.blocked: asyncio.Event | None = None
        self.migrations = 0
        self.closed = False

    async def _enter(self) -> None:
        if self.blocked is not None:
            await self.blocked.wait()
        if self.error is not None:
            raise self.error
        if self.unavailable:
            raise StorageUnavailable("fake database is down")

    async def migrate(self) -> None:
        await self._enter()
        self.migrations += 1

    async def record(self, signals: Sequence[Signal], *, record_time: datetime) -> RecordResult:
        await self._enter()
        if any(not math.isfinite(s.confidence) for s in signals):
            raise ValueError("confidence must be finite")  # as a database constraint would
        accepted: set[str] = set()
        for signal in signals:
            if signal.signal_id not in self.rows:
                self.rows[signal.signal_id] = TrackedSignal(signal=signal, record_time=record_time)
                self.tracking[signal.signal_id] = _Tracking(signal.create_time, signal.create_time)
                accepted.add(signal.signal_id)
        return RecordResult(
            accepted=len(accepted),
            duplicate=len(signals) - len(accepted),
            accepted_ids=frozenset(accepted),
        )

    async def query(
        self, query: SignalFilter, page_size: int, after: SignalCursor | None
    ) -> tuple[list[TrackedSignal], SignalCursor | None]:
        await self._enter()
        key = (after.create_time, after.signal_id) if after else None
        matching = sorted(
            (t for t in self.rows.values() if query.matches(t, key)),
            key=lambda t: (t.signal.create_time, t.signal.signal_id),
            reverse=True,
        )
        page = matching[:page_size]
        more = len(matching) > page_size
        return page, (SignalCursor.after(page[-1]) if more and page else None)

    async def known_ids(self, ids: Sequence[str]) -> set[str]:
        await self._enter()
        return {i for i in ids if i in self.rows}

    async def outcome_stats(self, since: datetime, symbol: str | None) -> OutcomeStats:
        await self._enter()
        rows = [
            t
            for t in self.rows.values()
            if t.signal.create_time >= since and (symbol is None or t.signal.symbol == symbol)
        ]
        resolved = [t for t in rows if t.outcome is not Outcome.OPEN and t.pnl_percent is not None]
        return OutcomeStats(
            total=len(rows),
            open=sum(t.outcome is Outcome.OPEN for t in rows),
            wins=sum(t.outcome is Outcome.WIN for t in rows),
            losses=sum(t.outcome is Outcome.LOSS for t in rows),
            expired=sum(t.outcome is Outcome.EXPIRED for t in rows),
            total_pnl_percent=sum(t.pnl_percent or 0.0 for t in resolved),
            pnl_samples=len(resolved),
        )

    async def resolve(self, resolution: OutcomeResolution) -> bool:
        await self._enter()
        return self._resolve(resolution)

    def _resolve(self, resolution: OutcomeResolution) -> bool:
        current = self.rows.get(resolution.signal_id)
        if current is None or current.outcome is not Outcome.OPEN:
            return False
        self.rows[resolution.signal_id] = replace(
            current,
            outcome=resolution.outcome,
            exit_price=resolution.exit_price,
            exit_time=resolution.exit_time,
            pnl_percent=resolution.pnl_percent,
        )
        return True

    @contextlib.asynccontextmanager
    async def claim_open(
        self, due_before: datetime, limit: int, *, checked_at: datetime
    ) -> AsyncIterator[FakeClaim]:
        await self._enter()
        due = sorted(
            (
                (self.tracking[i].checked_at, t)
                for i, t in self.rows.items()
                if t.outcome is Outcome.OPEN and self.tracking[i].checked_at < due_before
            ),
            key=lambda pair: pair[0],
        )[:limit]
        signals = [
            OpenSignal(
                signal=t.signal,
                checked_through=self.tracking[t.signal.signal_id].checked_through,
                mark_price=t.mark_price,
                mark_time=t.mark_time,
            )
            for _, t in due
        ]
        yield FakeClaim(self, signals, checked_at)

    async def count_open(self) -> int:
        await self._enter()
        return sum(t.outcome is Outcome.OPEN for t in self.rows.values())

    async def outcome_samples(self, since: datetime) -> list[OutcomeSample]:
        await self._enter()
        return [
            OutcomeSample(
                symbol=t.signal.symbol,
                raw_confidence=t.signal.raw_confidence,
                won=t.outcome is Outcome.WIN,
                create_time=t.signal.create_time,
            )
            for t in self.rows.values()
            if t.outcome in (Outcome.WIN, Outcome.LOSS) and t.signal.create_time >= since
        ]

    async def save_calibrations(self, calibrations: Sequence[Calibration]) -> None:
        await self._enter()
        self.calibrations = list(calibrations)

    async def load_calibrations(self) -> list[Calibration]:
        await self._enter()
        return sorted(self.calibrations, key=lambda c: c.symbol)

    async def days_before(self, cutoff: datetime) -> list[date]:
        await self._enter()
        return sorted(
            {
                day_of(t.signal.create_time)
                for t in self.rows.values()
                if t.signal.create_time < cutoff
            }
        )

    async def delete_signals(self, start: datetime, end: datetime, ids: Sequence[str]) -> int:
        await self._enter()
        deleted = 0
        for i in ids:
            t = self.rows.get(i)
            if t and t.outcome is not Outcome.OPEN and start <= t.signal.create_time < end:
                del self.rows[i]
                deleted += 1
        return deleted

    async def save_manifest(self, manifest: ArchiveManifest) -> None:
        await self._enter()
        old = self.manifests.get(manifest.day)
        pruned = manifest.pruned or (old is not None and old.pruned)
        self.manifests[manifest.day] = replace(manifest, pruned=pruned)

    async def list_manifests(
        self, first: date | None, last: date | None, limit: int, *, pruned_only: bool = False
    ) -> list[ArchiveManifest]:
        await self._enter()
        found = [
            m
            for d, m in sorted(self.manifests.items(), reverse=True)
            if (first is None or d >= first)
            and (last is None or d <= last)
            and (m.pruned or not pruned_only)
        ]
        return found[:limit]

    async def analytics(self, since: date, symbol: str | None) -> Analytics:
        await self._enter()
        rows = [t for t in self.rows.values() if symbol is None or t.signal.symbol == symbol]
        return _analytics(rows, since)

    async def refresh_analytics(self, refresh_time: datetime) -> bool:
        await self._enter()
        return False

    async def ping(self) -> bool:
        return not self.unavailable

    async def aclose(self) -> None:
        self.closed = True


def _newest_day_first(item: tuple[tuple[date, str, Action], object]) -> tuple[int, str, str]:
    (day, symbol, action), _ = item
    return -day.toordinal(), symbol, action.value


def _analytics(rows: list[TrackedSignal], since: date) -> Analytics:
    daily: dict[tuple[date, str, Action], list[TrackedSignal]] = defaultdict(list)
    per_symbol: dict[str, list[TrackedSignal]] = defaultdict(list)
    buckets: dict[tuple[str, int], list[TrackedSignal]] = defaultdict(list)
    for t in rows:
        s = t.signal
        if day_of(s.create_time) >= since:
            daily[(day_of(s.create_time), s.symbol, s.action)].append(t)
        per_symbol[s.symbol].append(t)
        buckets[(s.symbol, min(int(s.confidence // 10), 9))].append(t)

    def count(group: list[TrackedSignal], outcome: Outcome) -> int:
        return sum(t.outcome is outcome for t in group)

    def pnl(group: list[TrackedSignal]) -> list[float]:
        return [
            t.pnl_percent
            for t in group
            if t.outcome is not Outcome.OPEN and t.pnl_percent is not None
        ]

    return Analytics(
        daily=tuple(
            DailySummary(
                day=d, symbol=sym, action=a, signals=len(g),
                avg_confidence=sum(t.signal.confidence for t in g) / len(g),
                open=count(g, Outcome.OPEN), wins=count(g, Outcome.WIN),
                losses=count(g, Outcome.LOSS), expired=count(g, Outcome.EXPIRED),
            )
            for (d, sym, a), g in sorted(daily.items(), key=_newest_day_first)
        ),
        symbols=tuple(
            SymbolPerformance(
                symbol=sym, signals=len(g), open=count(g, Outcome.OPEN),
                wins=count(g, Outcome.WIN), losses=count(g, Outcome.LOSS),
                expired=count(g, Outcome.EXPIRED), total_pnl_percent=sum(pnl(g)),
                pnl_samples=len(pnl(g)),
                last_signal_time=max(t.signal.create_time for t in g),
            )
            for sym, g in sorted(per_symbol.items())
        ),
        confidence=tuple(
            ConfidenceBucket(
                symbol=sym, low=b * 10.0, high=b * 10.0 + 10.0, signals=len(g),
                avg_confidence=sum(t.signal.confidence for t in g) / len(g),
                wins=count(g, Outcome.WIN), losses=count(g, Outcome.LOSS),
                total_pnl_percent=sum(pnl(g)), pnl_samples=len(pnl(g)),
            )
            for (sym, b), g in sorted(buckets.items())
        ),
        refresh_time=None,
    )  # fmt: skip


class FakePriceSource:
    """Prices from constructed paths: `bars[symbol]` and `ticks[symbol]`. Set `down` to fail
    every call, or add a symbol to `failing` to fail its bars only."""

    def __init__(self) -> None:
        self.bars_by_symbol: dict[str, list[PriceBar]] = {}
        self.ticks: dict[str, PriceTick] = {}
        self.down = False
        self.failing: set[str] = set()
        self.calls: list[tuple[str, object]] = []

    async def latest(self, symbols: Sequence[str]) -> dict[str, PriceTick]:
        self.calls.append(("latest", tuple(symbols)))
        if self.down:
            raise PriceDataUnavailable("fake gateway is down")
        return {s: self.ticks[s] for s in symbols if s in self.ticks}

    async def bars(self, symbol: str, start: datetime, end: datetime) -> list[PriceBar]:
        self.calls.append(("bars", (symbol, start, end)))
        if self.down or symbol in self.failing:
            raise PriceDataUnavailable("fake gateway is down")
        return [
            b
            for b in self.bars_by_symbol.get(symbol, [])
            if start <= b.start_time < end and b.end_time <= end
        ]


class FakeObjectStore:
    """Objects in a dict; `lifecycle` records applied tiers."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.lifecycle: list[tuple[tuple[LifecycleTier, ...], str]] = []
        self.down = False

    def url(self, key: str) -> str:
        return f"memory://{key}"

    async def put(self, key: str, data: bytes) -> None:
        self._check()
        self.objects[key] = data

    async def get(self, key: str) -> bytes | None:
        self._check()
        return self.objects.get(key)

    async def apply_lifecycle(self, tiers: Sequence[LifecycleTier], prefix: str) -> bool:
        self._check()
        self.lifecycle.append((tuple(tiers), prefix))
        return True

    async def aclose(self) -> None:
        return None

    def _check(self) -> None:
        if self.down:
            raise ArchiveUnavailable("fake object store is down")
