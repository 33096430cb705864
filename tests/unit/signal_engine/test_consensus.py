"""Consensus, regime and price levels: properties over arbitrary series, and examples."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signal_engine.domain import (
    Action,
    BarSeries,
    CacheStatus,
    InsufficientHistory,
    Quote,
    Regime,
    SignalContext,
    SourceOpinion,
    Tunables,
    build_signal,
    detect_regime,
    form_consensus,
    price_levels,
)

from .fakes import bars_from_closes, wavy_closes

NOW = datetime(2026, 11, 17, 15, 30, tzinfo=UTC)
T = Tunables()


def _signal(closes: list[float], t: Tunables = T, cache: CacheStatus = CacheStatus.MISS):
    series = BarSeries(
        symbol="AAPL",
        bars=bars_from_closes(closes, NOW),
        provider="synthetic",
        cache_status=cache,
        age_ms=40,
    )
    quote = Quote(symbol="AAPL", price=closes[-1], time=NOW)
    ctx = SignalContext(signal_id="00000000-0000-4000-8000-000000000001", now=NOW)
    return build_signal(quote, series, ctx, t)


# Random walks: 15..150 log-returns of up to +-5% from a price between $0.5 and $100k.
random_paths = st.builds(
    lambda start, steps: [start * math.exp(sum(steps[: i + 1])) for i in range(len(steps))],
    st.floats(min_value=0.5, max_value=100_000),
    st.lists(st.floats(min_value=-0.05, max_value=0.05), min_size=15, max_size=150),
)


@settings(max_examples=200, deadline=None)
@given(random_paths)
def test_any_series_gives_a_well_formed_signal(closes: list[float]) -> None:
    signal = _signal(closes)
    assert 0.0 <= signal.confidence <= 100.0
    assert signal.raw_confidence == signal.confidence
    entry, target, stop = signal.entry_price, signal.target_price, signal.stop_price
    if signal.action is Action.BUY:
        assert target > entry > stop > 0
    elif signal.action is Action.SELL:
        assert 0 < target < entry < stop
    else:
        assert target == entry == stop
    assert signal.expire_time == NOW + timedelta(seconds=T.horizon_seconds)
    assert math.isclose(sum(p.weight for p in signal.lineage), 1.0, abs_tol=1e-9)
    assert all(-1.0 <= p.direction <= 1.0 and 0.0 <= p.confidence <= 1.0 for p in signal.lineage)


@settings(max_examples=50, deadline=None)
@given(random_paths)
def test_same_input_gives_the_same_signal(closes: list[float]) -> None:
    assert _signal(closes) == _signal(list(closes))


@given(
    st.lists(st.tuples(st.floats(-1, 1), st.floats(0, 1)), min_size=1, max_size=4),
    st.sampled_from(list(Regime)),
)
def test_consensus_confidence_is_always_0_to_100(votes, regime) -> None:
    names = ["ma_crossover", "rsi", "macd", "momentum"]
    opinions = [
        SourceOpinion(source=names[i], direction=d, confidence=c) for i, (d, c) in enumerate(votes)
    ]
    consensus = form_consensus(opinions, regime, T)
    assert 0.0 <= consensus.raw_confidence <= 100.0
    assert -1.0 <= consensus.score <= 1.0


def test_unanimous_full_strength_buy_is_fully_confident() -> None:
    opinions = [
        SourceOpinion(source=s, direction=1.0, confidence=1.0)
        for s in ("ma_crossover", "rsi", "macd", "momentum")
    ]
    consensus = form_consensus(opinions, Regime.RANGING, T)
    assert consensus.action is Action.BUY
    assert consensus.raw_confidence == pytest.approx(100.0)


def test_score_between_thresholds_is_hold() -> None:
    opinions = [SourceOpinion(source="ma_crossover", direction=0.1, confidence=1.0)]
    assert form_consensus(opinions, Regime.UNSPECIFIED, T).action is Action.HOLD


def test_weights_decide_between_disagreeing_sources() -> None:
    opinions = [
        SourceOpinion(source="ma_crossover", direction=1.0, confidence=1.0),
        SourceOpinion(source="rsi", direction=-1.0, confidence=1.0),
    ]
    trend_heavy = Tunables(weights={"ma_crossover": 1.0, "rsi": 0.1})
    reversion_heavy = Tunables(weights={"ma_crossover": 0.1, "rsi": 1.0})
    assert form_consensus(opinions, Regime.UNSPECIFIED, trend_heavy).action is Action.BUY
    assert form_consensus(opinions, Regime.UNSPECIFIED, reversion_heavy).action is Action.SELL


def test_uptrend_buys_downtrend_sells_noise_holds() -> None:
    assert _signal(wavy_closes(100, drift=0.002)).action is Action.BUY
    assert _signal(wavy_closes(100, drift=-0.002)).action is Action.SELL
    assert _signal(wavy_closes(100)).action is Action.HOLD


def test_stale_bars_lower_confidence() -> None:
    closes = wavy_closes(100, drift=0.002)
    assert _signal(closes, cache=CacheStatus.STALE).confidence < _signal(closes).confidence


def test_too_few_bars_is_insufficient_history() -> None:
    with pytest.raises(InsufficientHistory, match="14 bars"):
        _signal(wavy_closes(100, count=14))


@pytest.mark.parametrize(
    ("closes", "regime"),
    [
        pytest.param(wavy_closes(100, drift=0.002), Regime.TRENDING, id="trend"),
        pytest.param(wavy_closes(100), Regime.RANGING, id="range"),
        pytest.param(
            wavy_closes(100, count=80) + wavy_closes(100, noise=0.006, count=20)[1:],
            Regime.VOLATILE,
            id="volatility-burst",
        ),
        pytest.param(wavy_closes(100, count=20), Regime.UNSPECIFIED, id="too-short"),
    ],
)
def test_regime_detection(closes: list[float], regime: Regime) -> None:
    assert detect_regime(closes, T) is regime


def test_price_levels_use_atr_multiples_within_bounds() -> None:
    assert price_levels(Action.BUY, 100.0, 1.0, T) == pytest.approx((102.0, 99.0))
    assert price_levels(Action.SELL, 100.0, 1.0, T) == pytest.approx((98.0, 101.0))
    assert price_levels(Action.HOLD, 100.0, 1.0, T) == (100.0, 100.0)
    assert price_levels(Action.BUY, 100.0, 0.0, T) == pytest.approx((100.1, 99.9))  # floor
    assert price_levels(Action.BUY, 100.0, 80.0, T) == pytest.approx((150.0, 50.0))  # cap
