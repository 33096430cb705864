"""The outcome-tracking loop over fakes: passes, batching, outages, metrics."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import pytest_asyncio
from prometheus_client import REGISTRY

from service_runtime.clock import FakeClock
from tracker.app import OutcomeSettings
from tracker.bootstrap import Components, build_components
from tracker.config import load_settings, parse_tunables
from tracker.domain import Action, Outcome, PriceTick

from .factories import T0, make_signal
from .fakes import FakeObjectStore, FakePriceSource, FakeSignalStore
from .test_outcome_rules import bar


@pytest_asyncio.fixture
async def components(
    fake_store: FakeSignalStore,
    fake_prices: FakePriceSource,
    fake_objects: FakeObjectStore,
    clock: FakeClock,
) -> AsyncIterator[Components]:
    clock.set(T0)
    c = await build_components(
        load_settings({}), clock=clock, store=fake_store, prices=fake_prices, objects=fake_objects
    )
    yield c
    await c.exit_stack.aclose()


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.asyncio
async def test_a_pass_resolves_from_bars_and_advances_the_rest(
    components: Components,
    fake_store: FakeSignalStore,
    fake_prices: FakePriceSource,
    clock: FakeClock,
) -> None:
    winner = make_signal(symbol="AAPL", entry_price=100.0, target_price=102.0, stop_price=99.0)
    waiting = make_signal(symbol="MSFT", entry_price=400.0, target_price=410.0, stop_price=395.0)
    await components.tracker.record_signals([winner, waiting])
    fake_prices.bars_by_symbol["AAPL"] = [
        bar(0, 100, 100.5, 99.5, 100),
        bar(1, 100, 102.5, 100, 102),
    ]
    fake_prices.bars_by_symbol["MSFT"] = [
        bar(0, 400, 401, 399, 400.5),
        bar(1, 400.5, 402, 400, 401),
    ]
    fake_prices.ticks["MSFT"] = PriceTick(401.5, T0 + timedelta(seconds=150))
    wins_before = metric("argo_tracker_outcomes_total", outcome="WIN")
    clock.set(T0 + timedelta(minutes=3))
    result = await components.outcomes.track_once()
    assert result.resolved == [winner.signal_id] and result.examined == 2
    assert fake_store.rows[winner.signal_id].outcome is Outcome.WIN
    still = fake_store.rows[waiting.signal_id]
    assert still.outcome is Outcome.OPEN and still.mark_price == 401.5
    assert fake_store.tracking[waiting.signal_id].checked_through == T0 + timedelta(minutes=2)
    assert metric("argo_tracker_outcomes_total", outcome="WIN") == wins_before + 1
    assert metric("argo_tracker_open_signals") == 1
    assert metric("argo_tracker_win_rate") == 1.0
    performance = components.outcomes.performance()
    assert (performance["outcome_passes"], performance["total_outcomes_resolved"]) == (1, 1)
    assert performance["open_signals"] == 1
    latest_calls = [args for name, args in fake_prices.calls if name == "latest"]
    assert latest_calls == [("AAPL", "MSFT")]  # one batched quote call for the batch


@pytest.mark.asyncio
async def test_every_open_signal_is_examined_once_per_pass_across_batches(
    components: Components, fake_store: FakeSignalStore, clock: FakeClock
) -> None:
    components.outcomes.settings = OutcomeSettings(batch_size=3)
    signals = [make_signal(create_time=T0 + timedelta(seconds=i)) for i in range(7)]
    await components.tracker.record_signals(signals)
    clock.set(T0 + timedelta(minutes=1))
    result = await components.outcomes.track_once()
    assert result.examined == 7 and result.resolved == []
    assert {t.checked_at for t in fake_store.tracking.values()} == {clock.now()}


@pytest.mark.asyncio
async def test_expired_signals_resolve_even_when_nothing_traded(
    components: Components, fake_store: FakeSignalStore, clock: FakeClock
) -> None:
    buy = make_signal(entry_price=100.0, target_price=105.0, stop_price=97.0)
    hold = make_signal(
        action=Action.HOLD, entry_price=50.0, target_price=50.0, stop_price=50.0, symbol="NVDA"
    )
    await components.tracker.record_signals([buy, hold])
    clock.set(buy.expire_time + timedelta(minutes=1))
    result = await components.outcomes.track_once()
    assert sorted(result.resolved) == sorted([buy.signal_id, hold.signal_id])
    assert fake_store.rows[buy.signal_id].outcome is Outcome.EXPIRED
    assert fake_store.rows[hold.signal_id].outcome is Outcome.WIN  # the price did not move
    assert (await components.outcomes.track_once()).examined == 0


@pytest.mark.asyncio
async def test_a_symbol_without_prices_waits_and_nothing_resolves_on_missing_data(
    components: Components,
    fake_store: FakeSignalStore,
    fake_prices: FakePriceSource,
    clock: FakeClock,
) -> None:
    signal = make_signal(entry_price=100.0, target_price=105.0, stop_price=97.0)
    await components.tracker.record_signals([signal])
    fake_prices.failing.add("AAPL")
    clock.set(signal.expire_time + timedelta(minutes=1))  # even past expiry: no guessing
    result = await components.outcomes.track_once()
    assert (result.examined, result.deferred, result.resolved) == (1, 1, [])
    assert fake_store.rows[signal.signal_id].outcome is Outcome.OPEN
    fake_prices.failing.clear()
    fake_prices.bars_by_symbol["AAPL"] = [bar(0, 100, 106, 100, 105.5)]
    clock.advance(1)
    assert (await components.outcomes.track_once()).resolved == [signal.signal_id]
    assert fake_store.rows[signal.signal_id].outcome is Outcome.WIN


@pytest.mark.asyncio
async def test_quotes_down_still_tracks_with_bars(
    components: Components, fake_prices: FakePriceSource, clock: FakeClock
) -> None:
    signal = make_signal(entry_price=100.0, target_price=101.0, stop_price=99.0)
    await components.tracker.record_signals([signal])
    fake_prices.bars_by_symbol["AAPL"] = [bar(0, 100, 101.5, 100, 101.2)]
    original = fake_prices.latest

    async def quotes_down(symbols: object) -> dict[str, PriceTick]:
        fake_prices.down = True
        try:
            return await original(symbols)  # type: ignore[arg-type]
        finally:
            fake_prices.down = False

    fake_prices.latest = quotes_down  # type: ignore[method-assign]
    clock.set(T0 + timedelta(minutes=2))
    assert (await components.outcomes.track_once()).resolved == [signal.signal_id]


@pytest.mark.asyncio
async def test_the_loop_survives_outages_and_keeps_polling(
    components: Components,
    fake_store: FakeSignalStore,
    fake_prices: FakePriceSource,
    clock: FakeClock,
) -> None:
    signal = make_signal(entry_price=100.0, target_price=101.0, stop_price=99.0)
    await components.tracker.record_signals([signal])
    fake_store.unavailable = True
    components.outcomes.settings = OutcomeSettings(poll_seconds=10.0)
    loop = asyncio.create_task(components.outcomes.run())
    for _ in range(5):
        await asyncio.sleep(0)
    started = clock.now()
    assert started > T0  # it slept (the fake clock advances) instead of crashing
    fake_store.unavailable = False
    fake_prices.bars_by_symbol["AAPL"] = [bar(0, 100, 101.5, 100, 101.2)]
    for _ in range(20):
        await asyncio.sleep(0)
        if fake_store.rows[signal.signal_id].outcome is Outcome.WIN:
            break
    loop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await loop
    assert fake_store.rows[signal.signal_id].outcome is Outcome.WIN


def test_hot_reloaded_tunables_reach_every_loop(components: Components) -> None:
    components.apply(
        parse_tunables(
            {
                "tracker": {
                    "outcome_poll_seconds": 3,
                    "outcome_batch_size": 7,
                    "hold_band_pct": 0.25,
                    "calibration_min_samples": 50,
                    "calibration_refit_seconds": 600,
                    "analytics_refresh_seconds": 30,
                }
            }
        )
    )
    assert components.outcomes.settings == OutcomeSettings(
        poll_seconds=3.0, batch_size=7, hold_band_pct=0.25
    )
    assert components.calibration.settings.min_samples == 50
    assert components.calibration.settings.refit_seconds == 600.0
    assert components.analytics.refresh_seconds == 30.0


@pytest.mark.asyncio
async def test_bars_not_fetched_within_the_budget_wait_for_the_next_pass(
    components: Components, fake_prices: FakePriceSource, clock: FakeClock
) -> None:
    symbols = [f"S{i}" for i in range(10)]
    await components.tracker.record_signals([make_signal(symbol=s) for s in symbols])
    original = fake_prices.bars
    started: list[str] = []

    async def slow_bars(symbol: str, start: object, end: object) -> list[object]:
        started.append(symbol)
        await asyncio.sleep(0)  # let every call that can start, start
        if len(started) == 8:
            clock.advance(25.0)  # a slow gateway: the eight calls in flight take 25 s
        return await original(symbol, start, end)  # type: ignore[arg-type]

    fake_prices.bars = slow_bars  # type: ignore[method-assign, assignment]
    clock.set(T0 + timedelta(minutes=5))
    result = await components.outcomes.track_once()
    assert (result.examined, result.deferred) == (10, 2)  # 8 in flight, then out of budget
    assert len(started) == 8


@pytest.mark.asyncio
async def test_a_bug_in_a_pass_is_counted_and_the_loop_goes_on(
    components: Components, fake_store: FakeSignalStore, clock: FakeClock
) -> None:
    failures = metric("argo_tracker_outcome_pass_failures_total")
    fake_store.error = RuntimeError("poison row")
    loop = asyncio.create_task(components.outcomes.run())
    for _ in range(5):
        await asyncio.sleep(0)
    assert not loop.done()
    loop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await loop
    assert metric("argo_tracker_outcome_pass_failures_total") >= failures + 2
