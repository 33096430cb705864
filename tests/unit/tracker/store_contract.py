"""The SignalStore contract, written once and run against every adapter (and the fake).

A subclass named Test... provides an async `store` fixture yielding a migrated, empty store.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import timedelta

import pytest

from tracker.domain import (
    Action,
    Outcome,
    OutcomeResolution,
    Signal,
    SignalCursor,
    SignalFilter,
    StorageUnavailable,
    TrackedSignal,
)
from tracker.ports import SignalStore

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
