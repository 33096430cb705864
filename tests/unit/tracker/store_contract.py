"""The SignalStore contract, written once and run against every adapter (and the fake).

A subclass named Test... provides an async `store` fixture yielding a migrated, empty store.
`TrackerStoreContract` (everything) is what adapters run; `SignalStoreContract` is its
signal-storage part.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, timedelta

import pytest

from tracker.domain import (
    GLOBAL,
    Action,
    ArchiveManifest,
    Calibration,
    CalibrationMethod,
    CalibrationPoint,
    Compression,
    Outcome,
    OutcomeResolution,
    Progress,
    Signal,
    SignalCursor,
    SignalFilter,
    StorageUnavailable,
    TrackedSignal,
    day_bounds,
)
from tracker.ports import SignalStore, TrackerStore

from .factories import T0, make_sell, make_series, make_signal

RECORDED_AT = T0 + timedelta(minutes=1, microseconds=123_456)


async def page_through(
    store: SignalStore, query: SignalFilter, page_size: int
) -> list[list[TrackedSignal]]:
    pages: list[list[TrackedSignal]] = []
    cursor: SignalCursor | None = None
    while True:
        rows, cursor = await store.query(query, page_size, cursor)
        pages.append(rows)
        if cursor is None:
            return pages


def ids(rows: list[TrackedSignal]) -> list[str]:
    return [t.signal.signal_id for t in rows]


def newest_first(signals: list[Signal]) -> list[str]:
    ordered = sorted(signals, key=lambda s: (s.create_time, s.signal_id), reverse=True)
    return [s.signal_id for s in ordered]


class SignalStoreContract:
    @pytest.mark.asyncio
    async def test_empty_store_has_no_signals_and_zero_stats(self, store: SignalStore) -> None:
        assert await store.query(SignalFilter(), 10, None) == ([], None)
        stats = await store.outcome_stats(T0 - timedelta(days=1), None)
        assert (stats.total, stats.open, stats.pnl_samples) == (0, 0, 0)
        assert await store.ping() is True

    @pytest.mark.asyncio
    async def test_signal_round_trips_every_field(self, store: SignalStore) -> None:
        signal = make_signal(create_time=T0 + timedelta(microseconds=7))
        result = await store.record([signal], record_time=RECORDED_AT)
        assert (result.accepted, result.duplicate) == (1, 0)
        rows, cursor = await store.query(SignalFilter(), 10, None)
        assert cursor is None
        assert rows == [TrackedSignal(signal=signal, record_time=RECORDED_AT)]
        assert rows[0].outcome is Outcome.OPEN and rows[0].exit_time is None

    @pytest.mark.asyncio
    async def test_recording_again_counts_duplicates_and_keeps_the_first(
        self, store: SignalStore
    ) -> None:
        batch = make_series(3)
        await store.record(batch, record_time=RECORDED_AT)
        changed = replace(batch[0], confidence=11.0)
        result = await store.record([changed, *batch[1:]], record_time=RECORDED_AT)
        assert (result.accepted, result.duplicate) == (0, 3)
        rows, _ = await store.query(SignalFilter(), 10, None)
        assert len(rows) == 3
        assert {t.signal.confidence for t in rows} == {batch[0].confidence}

    @pytest.mark.asyncio
    async def test_an_id_repeated_inside_a_batch_counts_once_as_duplicate(
        self, store: SignalStore
    ) -> None:
        a, b = make_series(2)
        result = await store.record([a, b, a], record_time=RECORDED_AT)
        assert (result.accepted, result.duplicate) == (2, 1)

    @pytest.mark.asyncio
    async def test_a_failing_batch_stores_nothing(self, store: SignalStore) -> None:
        good = make_series(3)
        broken = make_signal(confidence=math.nan)  # refused by the database's constraints
        with pytest.raises(Exception) as failure:
            await store.record([*good, broken], record_time=RECORDED_AT)
        assert not isinstance(failure.value, StorageUnavailable)
        assert await store.query(SignalFilter(), 10, None) == ([], None)
        assert (await store.record(good, record_time=RECORDED_AT)).accepted == 3

    @pytest.mark.asyncio
    async def test_250_signals_page_by_100_without_loss_or_repeat(self, store: SignalStore) -> None:
        signals = make_series(250, ties=3)  # create_time ties are broken by signal_id
        await store.record(signals[:120], record_time=RECORDED_AT)
        await store.record(signals[120:], record_time=RECORDED_AT)
        pages = await page_through(store, SignalFilter(), 100)
        assert [len(p) for p in pages] == [100, 100, 50]
        assert [i for p in pages for i in ids(p)] == newest_first(signals)

    @pytest.mark.asyncio
    async def test_exact_page_multiple_ends_without_an_empty_page(self, store: SignalStore) -> None:
        await store.record(make_series(20), record_time=RECORDED_AT)
        pages = await page_through(store, SignalFilter(), 10)
        assert [len(p) for p in pages] == [10, 10]

    @pytest.mark.asyncio
    async def test_cursor_excludes_its_own_row(self, store: SignalStore) -> None:
        signals = make_series(3)
        await store.record(signals, record_time=RECORDED_AT)
        newest = max(signals, key=lambda s: s.create_time)
        rows, _ = await store.query(
            SignalFilter(), 10, SignalCursor(newest.create_time, newest.signal_id)
        )
        assert newest.signal_id not in ids(rows) and len(rows) == 2

    @pytest.mark.asyncio
    async def test_filters_by_symbol_action_time_and_confidence(self, store: SignalStore) -> None:
        buys = make_series(6, symbol="AAPL", confidence=60.0)
        sells = [
            make_sell(create_time=T0 + timedelta(seconds=i), confidence=90.0) for i in range(4)
        ]
        await store.record([*buys, *sells], record_time=RECORDED_AT)

        async def matching(query: SignalFilter) -> list[str]:
            return [i for p in await page_through(store, query, 3) for i in ids(p)]

        assert await matching(SignalFilter(symbols=frozenset({"TSLA"}))) == newest_first(sells)
        assert await matching(SignalFilter(actions=frozenset({Action.BUY}))) == newest_first(buys)
        assert await matching(SignalFilter(min_confidence=75.0)) == newest_first(sells)
        window = SignalFilter(
            start_time=T0 + timedelta(seconds=2), end_time=T0 + timedelta(seconds=4)
        )
        in_window = [s for s in [*buys, *sells] if 2 <= (s.create_time - T0).seconds < 4]
        assert await matching(window) == newest_first(in_window)
        both = SignalFilter(symbols=frozenset({"AAPL", "TSLA"}), actions=frozenset({Action.SELL}))
        assert await matching(both) == newest_first(sells)

    @pytest.mark.asyncio
    async def test_resolve_sets_the_outcome_once(self, store: SignalStore) -> None:
        signal = make_signal()
        await store.record([signal], record_time=RECORDED_AT)
        win = OutcomeResolution(
            signal_id=signal.signal_id,
            outcome=Outcome.WIN,
            exit_price=195.5,
            exit_time=T0 + timedelta(hours=1, microseconds=5),
            pnl_percent=2.83,
        )
        assert await store.resolve(win) is True
        assert await store.resolve(replace(win, outcome=Outcome.LOSS)) is False
        unknown = replace(win, signal_id="00000000-0000-4000-8000-000000000000")
        assert await store.resolve(unknown) is False
        rows, _ = await store.query(SignalFilter(outcomes=frozenset({Outcome.WIN})), 10, None)
        assert [(t.outcome, t.exit_price, t.exit_time, t.pnl_percent) for t in rows] == [
            (Outcome.WIN, 195.5, win.exit_time, 2.83)
        ]
        assert await store.query(SignalFilter(outcomes=frozenset({Outcome.OPEN})), 10, None) == (
            [],
            None,
        )

    @pytest.mark.asyncio
    async def test_outcome_stats_count_window_and_symbol(self, store: SignalStore) -> None:
        old = make_signal(create_time=T0 - timedelta(days=40))
        aapl = make_series(4, start=T0)
        tsla = make_sell(create_time=T0)
        await store.record([old, *aapl, tsla], record_time=RECORDED_AT)
        outcomes = [(Outcome.WIN, 3.0), (Outcome.WIN, 1.0), (Outcome.LOSS, -2.0)]
        for signal, (outcome, pnl) in zip(aapl, outcomes, strict=False):
            resolution = OutcomeResolution(
                signal_id=signal.signal_id,
                outcome=outcome,
                exit_price=191.0,
                exit_time=T0 + timedelta(hours=1),
                pnl_percent=pnl,
            )
            assert await store.resolve(resolution)
        expiry = OutcomeResolution(
            signal_id=tsla.signal_id,
            outcome=Outcome.EXPIRED,
            exit_price=188.0,
            exit_time=T0 + timedelta(hours=4),
            pnl_percent=0.5,
        )
        assert await store.resolve(expiry)
        since = T0 - timedelta(days=30)
        stats = await store.outcome_stats(since, None)
        assert (stats.total, stats.open, stats.wins, stats.losses, stats.expired) == (5, 1, 2, 1, 1)
        assert stats.total_pnl_percent == pytest.approx(2.5)
        assert stats.pnl_samples == 4
        assert stats.win_rate == pytest.approx(2 / 3)
        only_aapl = await store.outcome_stats(since, "AAPL")
        assert (only_aapl.total, only_aapl.expired) == (4, 0)
        assert (await store.outcome_stats(T0 - timedelta(days=50), None)).total == 6

    @pytest.mark.asyncio
    async def test_migrate_again_is_harmless(self, store: SignalStore) -> None:
        await store.record(make_series(2), record_time=RECORDED_AT)
        await store.migrate()
        rows, _ = await store.query(SignalFilter(), 10, None)
        assert len(rows) == 2


def _resolution(signal: Signal, outcome: Outcome, pnl: float) -> OutcomeResolution:
    return OutcomeResolution(
        signal_id=signal.signal_id,
        outcome=outcome,
        exit_price=signal.entry_price * (1 + pnl / 100),
        exit_time=signal.create_time + timedelta(hours=1),
        pnl_percent=pnl,
    )


class TrackerStoreContract(SignalStoreContract):
    """What the outcome tracker, calibration, archive and analytics need of a store."""

    @pytest.mark.asyncio
    async def test_record_names_the_ids_it_inserted(self, store: TrackerStore) -> None:
        a, b, c = make_series(3)
        await store.record([a], record_time=RECORDED_AT)
        result = await store.record([a, b, c, b], record_time=RECORDED_AT)
        assert result.accepted_ids == {b.signal_id, c.signal_id}
        assert (result.accepted, result.duplicate) == (2, 2)
        assert await store.known_ids([a.signal_id, b.signal_id, UNKNOWN_ID]) == {
            a.signal_id,
            b.signal_id,
        }

    @pytest.mark.asyncio
    async def test_claims_take_open_signals_least_recently_examined_first(
        self, store: TrackerStore
    ) -> None:
        signals = make_series(5)
        await store.record(signals, record_time=RECORDED_AT)
        resolved_first = signals[0]
        assert await store.resolve(_resolution(resolved_first, Outcome.WIN, 1.0))
        later = T0 + timedelta(hours=1)
        async with store.claim_open(later, 2, checked_at=later) as claim:
            claimed = [o.signal.signal_id for o in claim.signals]
            assert claimed == [s.signal_id for s in signals[1:3]]
            assert [o.checked_through for o in claim.signals] == [
                s.create_time for s in signals[1:3]
            ]
            assert all(o.signal == s for o, s in zip(claim.signals, signals[1:3], strict=True))
        # Nothing was settled, so the same two are due again first.
        async with store.claim_open(later, 10, checked_at=later) as claim:
            assert [o.signal.signal_id for o in claim.signals] == [s.signal_id for s in signals[1:]]

    @pytest.mark.asyncio
    async def test_settling_resolves_once_and_records_progress(self, store: TrackerStore) -> None:
        win, still_open = make_series(2)
        await store.record([win, still_open], record_time=RECORDED_AT)
        examined = T0 + timedelta(minutes=30)
        mark_time = T0 + timedelta(minutes=29, microseconds=11)
        async with store.claim_open(examined, 10, checked_at=examined) as claim:
            assert len(claim.signals) == 2
            progress = Progress(
                signal_id=still_open.signal_id,
                checked_through=T0 + timedelta(minutes=29),
                mark_price=191.25,
                mark_time=mark_time,
            )
            resolution = _resolution(win, Outcome.WIN, 2.5)
            resolved = await claim.settle([resolution, resolution], [progress])
        assert resolved == [win.signal_id]
        # Examined at `examined`: not due before it, due after it.
        async with store.claim_open(examined, 10, checked_at=examined) as claim:
            assert claim.signals == []
        later = examined + timedelta(seconds=1)
        async with store.claim_open(later, 10, checked_at=later) as claim:
            [again] = claim.signals
        assert again.checked_through == T0 + timedelta(minutes=29)
        assert (again.mark_price, again.mark_time) == (191.25, mark_time)
        rows, _ = await store.query(SignalFilter(), 10, None)
        by_id = {t.signal.signal_id: t for t in rows}
        assert by_id[win.signal_id].outcome is Outcome.WIN
        assert by_id[still_open.signal_id].mark_price == 191.25
        assert by_id[still_open.signal_id].open_pnl_percent == pytest.approx(
            (191.25 - still_open.entry_price) / still_open.entry_price * 100
        )
        assert await store.count_open() == 1

    @pytest.mark.asyncio
    async def test_a_claim_that_fails_writes_nothing(self, store: TrackerStore) -> None:
        [signal] = make_series(1)
        await store.record([signal], record_time=RECORDED_AT)
        examined = T0 + timedelta(minutes=5)
        with pytest.raises(RuntimeError):
            async with store.claim_open(examined, 10, checked_at=examined) as claim:
                assert len(claim.signals) == 1
                raise RuntimeError("price fetch blew up")
        async with store.claim_open(examined, 10, checked_at=examined) as claim:
            assert [o.signal.signal_id for o in claim.signals] == [signal.signal_id]

    @pytest.mark.asyncio
    async def test_outcome_samples_are_decided_outcomes_since(self, store: TrackerStore) -> None:
        old = make_signal(create_time=T0 - timedelta(days=10), raw_confidence=61.0)
        won, lost, expired, open_ = make_series(4, raw_confidence=70.0)
        await store.record([old, won, lost, expired, open_], record_time=RECORDED_AT)
        for signal, outcome in ((old, Outcome.WIN), (won, Outcome.WIN), (lost, Outcome.LOSS),
                                (expired, Outcome.EXPIRED)):  # fmt: skip
            assert await store.resolve(_resolution(signal, outcome, 1.0))
        samples = await store.outcome_samples(T0 - timedelta(days=1))
        assert sorted((s.won, s.raw_confidence, s.symbol) for s in samples) == [
            (False, 70.0, "AAPL"),
            (True, 70.0, "AAPL"),
        ]
        assert len(await store.outcome_samples(T0 - timedelta(days=30))) == 3

    @pytest.mark.asyncio
    async def test_calibrations_are_replaced_as_a_set(self, store: TrackerStore) -> None:
        first = [_calibration(GLOBAL), _calibration("AAPL")]
        await store.save_calibrations(first)
        assert await store.load_calibrations() == first
        second = [_calibration(GLOBAL, method=CalibrationMethod.PLATT)]
        await store.save_calibrations(second)
        assert await store.load_calibrations() == second

    @pytest.mark.asyncio
    async def test_manifests_upsert_keep_pruned_and_list_newest_first(
        self, store: TrackerStore
    ) -> None:
        days = [date(2026, 11, d) for d in (14, 15, 16, 17)]
        for day in days:
            await store.save_manifest(_manifest(day, pruned=day.day <= 15))
        await store.save_manifest(_manifest(days[0], rows=99))  # a re-run keeps `pruned`
        listed = await store.list_manifests(None, None, 10)
        assert [m.day for m in listed] == days[::-1]
        assert listed[-1] == _manifest(days[0], rows=99, pruned=True)
        assert [m.day for m in await store.list_manifests(days[1], days[2], 10)] == [
            days[2],
            days[1],
        ]
        assert [m.day for m in await store.list_manifests(None, None, 2)] == [days[3], days[2]]
        pruned = await store.list_manifests(None, None, 10, pruned_only=True)
        assert [m.day for m in pruned] == [days[1], days[0]]

    @pytest.mark.asyncio
    async def test_days_before_and_deleting_resolved_rows_of_a_day(
        self, store: TrackerStore
    ) -> None:
        day_one = make_series(3, start=T0 - timedelta(days=2))
        day_two = make_series(2, start=T0 - timedelta(days=1))
        today = make_series(1)
        await store.record([*day_one, *day_two, *today], record_time=RECORDED_AT)
        assert await store.days_before(T0.replace(hour=0)) == [
            (T0 - timedelta(days=2)).date(),
            (T0 - timedelta(days=1)).date(),
        ]
        for signal in day_one[:2]:
            assert await store.resolve(_resolution(signal, Outcome.LOSS, -1.0))
        start, end = day_bounds((T0 - timedelta(days=2)).date())
        ids = [s.signal_id for s in (*day_one, *day_two)]
        assert await store.delete_signals(start, end, ids) == 2  # open and other days stay
        rows, _ = await store.query(SignalFilter(), 100, None)
        assert {t.signal.signal_id for t in rows} == {
            day_one[2].signal_id,
            *(s.signal_id for s in (*day_two, *today)),
        }

    @pytest.mark.asyncio
    async def test_analytics_views(self, store: TrackerStore) -> None:
        yesterday = make_series(2, start=T0 - timedelta(days=1), confidence=65.0)
        today = [
            make_signal(confidence=82.0),
            make_signal(confidence=86.0),
            make_sell(confidence=55.0),
        ]
        await store.record([*yesterday, *today], record_time=RECORDED_AT)
        assert await store.resolve(_resolution(today[0], Outcome.WIN, 2.0))
        assert await store.resolve(_resolution(today[1], Outcome.LOSS, -1.0))
        assert await store.resolve(_resolution(today[2], Outcome.EXPIRED, 0.5))
        await store.refresh_analytics(T0 + timedelta(hours=2))
        found = await store.analytics(T0.date(), None)
        assert [(d.day, d.symbol, d.action, d.signals) for d in found.daily] == [
            (T0.date(), "AAPL", Action.BUY, 2),
            (T0.date(), "TSLA", Action.SELL, 1),
        ]
        aapl_today = found.daily[0]
        assert (aapl_today.wins, aapl_today.losses, aapl_today.open) == (1, 1, 0)
        assert aapl_today.avg_confidence == pytest.approx(84.0)
        perf = {p.symbol: p for p in found.symbols}
        assert (perf["AAPL"].signals, perf["AAPL"].open, perf["AAPL"].wins) == (4, 2, 1)
        assert perf["AAPL"].total_pnl_percent == pytest.approx(1.0)
        assert perf["AAPL"].last_signal_time == T0
        assert perf["TSLA"].expired == 1 and perf["TSLA"].avg_pnl_percent == pytest.approx(0.5)
        buckets = [(b.symbol, b.low, b.signals, b.wins, b.losses) for b in found.confidence]
        assert buckets == [
            ("AAPL", 60.0, 2, 0, 0),
            ("AAPL", 80.0, 2, 1, 1),
            ("TSLA", 50.0, 1, 0, 0),
        ]
        only_tsla = await store.analytics(T0.date() - timedelta(days=5), "TSLA")
        assert [p.symbol for p in only_tsla.symbols] == ["TSLA"]
        assert {d.symbol for d in only_tsla.daily} == {"TSLA"}
        assert {b.symbol for b in only_tsla.confidence} == {"TSLA"}
        with_yesterday = await store.analytics(T0.date() - timedelta(days=1), "AAPL")
        assert [d.day for d in with_yesterday.daily] == [T0.date(), T0.date() - timedelta(days=1)]


UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"


def _calibration(
    symbol: str, method: CalibrationMethod = CalibrationMethod.ISOTONIC
) -> Calibration:
    return Calibration(
        symbol=symbol,
        method=method,
        points=(
            CalibrationPoint(50.0, 0.3),
            CalibrationPoint(75.5, 0.45),
            CalibrationPoint(100.0, 0.62),
        ),
        sample_size=400,
        held_out_size=120,
        brier_before=0.31,
        brier_after=0.22,
        ece_before=0.21,
        ece_after=0.03,
        fit_time=T0 + timedelta(microseconds=17),
    )


def _manifest(day: date, *, rows: int = 10, pruned: bool = False) -> ArchiveManifest:
    return ArchiveManifest(
        day=day,
        rows=rows,
        bytes=2048,
        sha256="ab" * 32,
        location=f"s3://bucket/signals/date={day}/signals.parquet",
        compression=Compression.SNAPPY,
        archive_time=T0 + timedelta(microseconds=3),
        csv_location="",
        csv_bytes=0,
        pruned=pruned,
    )
