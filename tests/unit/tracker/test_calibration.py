"""Calibration: the measures, and fits on synthetic outcomes with a known miscalibration."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import pytest_asyncio

from service_runtime.clock import FakeClock
from tracker.adapters.calibration_fitter import SklearnCalibrationFitter
from tracker.bootstrap import Components, build_components
from tracker.config import load_settings
from tracker.domain import (
    CalibrationMethod,
    CalibrationNotFound,
    CalibrationPoint,
    Outcome,
    OutcomeResolution,
    brier_score,
    expected_calibration_error,
    interpolate,
    reliability_bins,
)

from .factories import T0, make_signal
from .fakes import FakeObjectStore, FakePriceSource, FakeSignalStore


def true_win_probability(raw_confidence: float) -> float:
    """The engine is overconfident: 50 means 20%, 100 means 70%."""
    return 0.2 + 0.5 * (raw_confidence - 50.0) / 50.0


async def seed_outcomes(
    store: FakeSignalStore, symbol: str, count: int, rng: random.Random
) -> None:
    signals = []
    for i in range(count):
        raw = rng.uniform(50.0, 100.0)
        signals.append(
            make_signal(
                symbol=symbol,
                raw_confidence=raw,
                confidence=raw,
                create_time=T0 - timedelta(days=5) + timedelta(minutes=i),
            )
        )
    await store.record(signals, record_time=T0)
    for s in signals:
        won = rng.random() < true_win_probability(s.raw_confidence)
        await store.resolve(
            OutcomeResolution(
                signal_id=s.signal_id,
                outcome=Outcome.WIN if won else Outcome.LOSS,
                exit_price=s.target_price if won else s.stop_price,
                exit_time=s.create_time + timedelta(hours=1),
                pnl_percent=1.0 if won else -1.0,
            )
        )


@pytest_asyncio.fixture
async def components(
    fake_store: FakeSignalStore,
    fake_prices: FakePriceSource,
    fake_objects: FakeObjectStore,
    clock: FakeClock,
) -> AsyncIterator[Components]:
    c = await build_components(
        load_settings({}), clock=clock, store=fake_store, prices=fake_prices, objects=fake_objects
    )
    yield c
    await c.exit_stack.aclose()


def test_measures_on_hand_computed_cases() -> None:
    points = (CalibrationPoint(50.0, 0.2), CalibrationPoint(100.0, 0.7))
    assert interpolate(points, 75.0) == pytest.approx(0.45)
    assert (interpolate(points, 10.0), interpolate(points, 120.0)) == (0.2, 0.7)
    assert brier_score([1.0, 0.0, 0.5], [True, False, True]) == pytest.approx(0.25 / 3)
    # Two bins: 0.15 predicted vs 0.5 observed (2 samples), 0.85 vs 1.0 (2 samples).
    probs, won = [0.1, 0.2, 0.8, 0.9], [True, False, True, True]
    assert expected_calibration_error(probs, won, bins=2) == pytest.approx(0.5 * 0.35 + 0.5 * 0.15)
    # Ten bins: each sample alone, |0.1-1|, |0.2-0|, |0.8-1|, |0.9-1| averaged.
    assert expected_calibration_error(probs, won) == pytest.approx((0.9 + 0.2 + 0.2 + 0.1) / 4)
    bins = reliability_bins(probs, won)
    assert [(b.count, b.observed_rate) for b in bins] == [(1, 1.0), (1, 0.0), (1, 1.0), (1, 1.0)]
    with pytest.raises(ValueError):
        brier_score([], [])


@pytest.mark.asyncio
async def test_the_fitters_return_monotone_knots_over_0_to_100() -> None:
    rng = random.Random(3)
    raw = [rng.uniform(50, 100) for _ in range(500)]
    won = [rng.random() < true_win_probability(x) for x in raw]
    fitter = SklearnCalibrationFitter()
    for method in CalibrationMethod:
        points = await fitter.fit(method, raw, won)
        xs = [p.raw_confidence for p in points]
        ys = [p.probability for p in points]
        assert xs == sorted(xs) and all(0.0 <= y <= 1.0 for y in ys), method
        assert ys == sorted(ys), method  # more confident never means less likely
    with pytest.raises(ValueError):
        await fitter.fit(CalibrationMethod.PLATT, [60.0, 70.0], [True, True])


@pytest.mark.asyncio
async def test_a_known_miscalibration_is_recovered(
    components: Components, fake_store: FakeSignalStore
) -> None:
    await seed_outcomes(fake_store, "AAPL", 3000, random.Random(7))
    fitted = {c.symbol: c for c in await components.calibration.fit_all()}
    assert set(fitted) == {"", "AAPL"}
    c = fitted["AAPL"]
    assert c.ece_before > 0.2  # raw confidence overstates the win rate by ~0.3
    assert c.ece_after <= c.ece_before / 2
    assert c.brier_after < c.brier_before
    assert c.sample_size == 3000 and c.held_out_size == 900
    for raw in (55.0, 75.0, 95.0):
        assert c.probability(raw) == pytest.approx(true_win_probability(raw), abs=0.08)
    served = await components.calibration.get("AAPL")
    assert served == c and not served.global_fallback


@pytest.mark.asyncio
async def test_a_thin_symbol_gets_the_global_fit_and_none_is_not_found(
    components: Components, fake_store: FakeSignalStore
) -> None:
    with pytest.raises(CalibrationNotFound):
        await components.calibration.get("AAPL")
    rng = random.Random(11)
    await seed_outcomes(fake_store, "AAPL", 400, rng)
    await seed_outcomes(fake_store, "MSFT", 50, rng)  # below the minimum of 200
    await components.calibration.fit_all()
    msft = await components.calibration.get("MSFT")
    assert msft.global_fallback and msft.symbol == "" and msft.sample_size == 450
    assert not (await components.calibration.get("")).global_fallback
    assert {c.symbol for c in fake_store.calibrations} == {"", "AAPL"}


@pytest.mark.asyncio
async def test_refits_are_scheduled_and_shared_between_replicas(
    components: Components, fake_store: FakeSignalStore, clock: FakeClock
) -> None:
    await seed_outcomes(fake_store, "AAPL", 300, random.Random(5))
    assert await components.calibration.refit_if_due() is not None  # nothing stored yet
    clock.advance(600)
    assert await components.calibration.refit_if_due() is None  # fitted 10 minutes ago
    clock.advance(3600)
    refitted = await components.calibration.refit_if_due()
    assert refitted is not None and refitted[0].fit_time == clock.now()
    # Another replica's fit reaches this one within the cache period.
    other = await build_components(
        load_settings({}),
        clock=clock,
        store=fake_store,
        prices=FakePriceSource(),
        objects=FakeObjectStore(),
    )
    assert (await other.calibration.get("AAPL")).fit_time == clock.now()
    await other.exit_stack.aclose()


@pytest.mark.asyncio
async def test_reliability_bins_before_and_after(
    components: Components, fake_store: FakeSignalStore
) -> None:
    await seed_outcomes(fake_store, "AAPL", 1000, random.Random(9))
    await components.calibration.fit_all()
    report = await components.calibration.reliability("AAPL")
    assert sum(b.count for b in report.before) == 1000 == sum(b.count for b in report.after)
    assert all(b.mean_predicted >= 0.5 for b in report.before)  # raw confidence is >= 50
    worst_before = max(abs(b.mean_predicted - b.observed_rate) for b in report.before)
    worst_after = max(abs(b.mean_predicted - b.observed_rate) for b in report.after if b.count > 50)
    assert worst_after < worst_before / 2


@pytest.mark.asyncio
async def test_too_few_outcomes_keep_the_previous_fit(
    components: Components, fake_store: FakeSignalStore, clock: FakeClock
) -> None:
    await seed_outcomes(fake_store, "AAPL", 300, random.Random(2))
    [*fitted] = await components.calibration.fit_all()
    clock.advance(40 * 86_400)  # every outcome is now outside the 30-day window
    assert await components.calibration.fit_all() == []
    assert fake_store.calibrations == fitted
    assert (await components.calibration.get("AAPL")).sample_size == 300
