"""Use cases over a fake store and a fake clock."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest

from service_runtime.clock import FakeClock
from tracker.app import TrackerApp
from tracker.domain import (
    Action,
    InvalidQuery,
    InvalidSignal,
    Outcome,
    OutcomeResolution,
    RecordStatus,
    SignalFilter,
    StorageUnavailable,
)

from .factories import T0, make_series, make_signal
from .fakes import FakeSignalStore


@pytest.fixture
def app(fake_store: FakeSignalStore, clock: FakeClock) -> TrackerApp:
    return TrackerApp(fake_store, clock)


@pytest.mark.asyncio
async def test_record_stores_with_the_clocks_record_time(
    app: TrackerApp, fake_store: FakeSignalStore, clock: FakeClock
) -> None:
    batch = make_series(3)
    result = await app.record_signals(batch)
    assert (result.accepted, result.duplicate) == (3, 0)
    assert {t.record_time for t in fake_store.rows.values()} == {clock.now()}


@pytest.mark.asyncio
async def test_record_counts_duplicates_and_reports_performance(app: TrackerApp) -> None:
    batch = make_series(4)
    await app.record_signals(batch[:2])
    result = await app.record_signals(batch)
    assert (result.accepted, result.duplicate) == (2, 2)
    performance = app.performance()
    assert performance["total_signals_recorded"] == 4
    assert performance["total_duplicates"] == 2
    assert performance["total_batches_recorded"] == 2
    assert performance["database"] == "memory"
    assert performance["avg_record_time"] == 0.0  # the fake clock did not move


@pytest.mark.asyncio
async def test_each_item_is_answered_and_only_invalid_ones_are_rejected(
    app: TrackerApp, fake_store: FakeSignalStore
) -> None:
    stored_before = make_signal()
    await app.record_signals([stored_before])
    fresh = make_series(2)
    bad = make_signal(confidence=130.0, entry_price=math.inf)
    batch = await app.record_signals([fresh[0], bad, stored_before, fresh[1], fresh[0]])
    assert [i.status for i in batch.items] == [
        RecordStatus.ACCEPTED,
        RecordStatus.REJECTED,
        RecordStatus.DUPLICATE,
        RecordStatus.ACCEPTED,
        RecordStatus.DUPLICATE,  # repeated inside the batch: the first one was stored
    ]
    assert (batch.accepted, batch.duplicate, batch.rejected) == (2, 2, 1)
    rejected = batch.items[1]
    assert rejected.signal_id == bad.signal_id
    assert [f for f, _ in rejected.violations] == ["confidence", "entry_price"]
    assert "confidence: must be within 0..100, got 130.0" in rejected.reason
    assert set(fake_store.rows) == {stored_before.signal_id, *(s.signal_id for s in fresh)}
    assert app.performance()["total_signals_rejected"] == 1


@pytest.mark.asyncio
async def test_an_all_invalid_batch_is_answered_without_touching_the_store(
    app: TrackerApp, fake_store: FakeSignalStore
) -> None:
    fake_store.unavailable = True  # nothing valid to store, so the outage does not matter
    batch = await app.record_signals([make_signal(symbol="not a symbol")])
    assert [i.status for i in batch.items] == [RecordStatus.REJECTED]


@pytest.mark.asyncio
async def test_all_or_nothing_rejects_the_batch_and_stores_nothing(
    app: TrackerApp, fake_store: FakeSignalStore
) -> None:
    batch = [*make_series(3), make_signal(confidence=130.0)]
    with pytest.raises(InvalidSignal) as error:
        await app.record_signals(batch, all_or_nothing=True)
    assert [f for f, _ in error.value.violations] == ["signals[3].confidence"]
    assert fake_store.rows == {}
    assert app.performance()["total_batches_rejected"] == 1


@pytest.mark.asyncio
async def test_an_outage_acknowledges_nothing(app: TrackerApp, fake_store: FakeSignalStore) -> None:
    fake_store.unavailable = True
    with pytest.raises(StorageUnavailable):
        await app.record_signals(make_series(2))
    fake_store.unavailable = False
    assert (await app.record_signals(make_series(1))).accepted == 1


@pytest.mark.asyncio
async def test_paging_follows_tokens_to_the_end(app: TrackerApp) -> None:
    signals = make_series(25)
    await app.record_signals(signals)
    query = SignalFilter(actions=frozenset({Action.BUY}))
    seen: list[str] = []
    token = ""
    pages = 0
    while True:
        page = await app.query_signals(query, 10, token)
        seen.extend(t.signal.signal_id for t in page.signals)
        pages += 1
        token = page.next_page_token
        if not token:
            break
    assert pages == 3
    assert sorted(seen) == sorted(s.signal_id for s in signals) and len(set(seen)) == 25


@pytest.mark.asyncio
async def test_a_token_from_another_filter_is_rejected(app: TrackerApp) -> None:
    await app.record_signals(make_series(5))
    first = await app.query_signals(SignalFilter(), 2, "")
    other = SignalFilter(symbols=frozenset({"AAPL"}))
    with pytest.raises(InvalidQuery) as error:
        await app.query_signals(other, 2, first.next_page_token)
    assert error.value.violations == [("page_token", "was issued for a different filter")]
    with pytest.raises(InvalidQuery, match="page_token"):
        await app.query_signals(SignalFilter(), 2, "!!not-a-token!!")


@pytest.mark.asyncio
async def test_page_size_zero_uses_the_tunable_default(app: TrackerApp) -> None:
    await app.record_signals(make_series(120))
    assert len((await app.query_signals(SignalFilter(), 0, "")).signals) == 100
    app.configure(default_page_size=7, slow_operation_seconds=1.0)
    page = await app.query_signals(SignalFilter(), 0, "")
    assert len(page.signals) == 7 and page.next_page_token


@pytest.mark.asyncio
async def test_query_rejects_bad_page_size_and_filter_together(app: TrackerApp) -> None:
    query = SignalFilter(min_confidence=-1.0)
    with pytest.raises(InvalidQuery) as error:
        await app.query_signals(query, 1001, "")
    assert {f for f, _ in error.value.violations} == {"filter.min_confidence", "page_size"}


@pytest.mark.asyncio
async def test_outcome_stats_window_defaults_to_30_days(
    app: TrackerApp, fake_store: FakeSignalStore
) -> None:
    recent = make_signal()
    old = make_signal(create_time=T0 - timedelta(days=31))
    await app.record_signals([recent, old])
    win = OutcomeResolution(
        signal_id=recent.signal_id,
        outcome=Outcome.WIN,
        exit_price=195.5,
        exit_time=T0 + timedelta(hours=1),
        pnl_percent=2.8,
    )
    await fake_store.resolve(win)
    stats = await app.outcome_stats(0, None)
    assert (stats.total, stats.wins, stats.win_rate) == (1, 1, 1.0)
    assert (await app.outcome_stats(60, None)).total == 2
    assert (await app.outcome_stats(60, "MSFT")).total == 0


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("days", "symbol", "field"), [(-1, None, "days"), (3651, None, "days"), (7, "b a d", "symbol")]
)
async def test_outcome_stats_rejects_bad_arguments(
    app: TrackerApp, days: int, symbol: str | None, field: str
) -> None:
    with pytest.raises(InvalidQuery) as error:
        await app.outcome_stats(days, symbol)
    assert [f for f, _ in error.value.violations] == [field]


@pytest.mark.asyncio
async def test_storage_outage_surfaces_as_storage_unavailable(
    app: TrackerApp, fake_store: FakeSignalStore
) -> None:
    fake_store.unavailable = True
    with pytest.raises(StorageUnavailable):
        await app.record_signals(make_series(1))
    with pytest.raises(StorageUnavailable):
        await app.query_signals(SignalFilter(), 10, "")
    assert app.performance()["total_batches_recorded"] == 0


def test_configure_rejects_out_of_range_page_size(app: TrackerApp) -> None:
    with pytest.raises(ValueError, match="default_page_size"):
        app.configure(default_page_size=0, slow_operation_seconds=1.0)
