"""Consensus, lineage, regime and price levels: exact examples worked by hand, and
properties over arbitrary series and votes."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signal_engine.domain import (
    Action,
    CacheStatus,
    Calibration,
    InsufficientHistory,
    Quote,
    Regime,
    SignalContext,
    SourceOpinion,
    Tunables,
    build_signal,
    detect_regime,
    form_consensus,
    indicator_values,
    price_levels,
    technical_view,
)

from .fakes import bars_from_closes, wavy_closes

NOW = datetime(2026, 11, 17, 15, 30, tzinfo=UTC)
T = Tunables()
SOURCE_NAMES = ["ma_crossover", "rsi", "macd", "momentum", "bollinger", "sentiment:xai"]


def _signal(
    closes: list[float],
    t: Tunables = T,
    cache: CacheStatus = CacheStatus.MISS,
    sentiment: tuple[SourceOpinion, ...] = (),
    calibration: Calibration | None = None,
):
    values = indicator_values(bars_from_closes(closes, NOW))
    technical = technical_view(values, t, provider="synthetic", cache_status=cache)
    quote = Quote(symbol="AAPL", price=closes[-1], time=NOW)
    ctx = SignalContext(signal_id="00000000-0000-4000-8000-000000000001", now=NOW)
    return build_signal(quote, technical, sentiment, calibration, ctx, t)


def _vote(source: str, direction: float, confidence: float = 1.0) -> SourceOpinion:
    return SourceOpinion(source=source, direction=direction, confidence=confidence)


def test_lineage_by_hand_buy() -> None:
    # weights 0.3 / 0.2 -> w = 0.6 / 0.4; S = 0.6*1 + 0.4*(-0.5) = 0.4 >= 0.2: BUY
    # s_ma = 0.5 + 0.5*(1 - 0.2)/0.8 = 1; s_rsi = 0.5 + 0.5*(-0.5 - 0.2)/0.8 = 0.0625
    # shares 100*0.6*1 = 60 and 100*0.4*0.0625 = 2.5; confidence 62.5 = 50 + 50*(0.4-0.2)/0.8
    consensus = form_consensus(
        [_vote("ma_crossover", 1.0), _vote("rsi", -0.5)], Regime.UNSPECIFIED, T
    )
    assert consensus.action is Action.BUY and consensus.score == pytest.approx(0.4)
    assert [p.weight for p in consensus.lineage] == pytest.approx([0.6, 0.4])
    assert [p.raw_contribution for p in consensus.lineage] == pytest.approx([60.0, 2.5])
    assert consensus.raw_confidence == pytest.approx(62.5)


def test_lineage_by_hand_hold_with_partial_confidence() -> None:
    # e = 0.3*0.5, 0.2*1 -> E 0.35, B 0.5, q 0.7; w = 3/7, 4/7; S = 0.3/7: HOLD
    # s_ma = 1 - 0.5*0.1/0.2 = 0.75, s_rsi = 1; shares 70*(3/7)*0.75 = 22.5, 70*(4/7) = 40
    opinions = [_vote("ma_crossover", 0.1, 0.5), _vote("rsi", 0.0)]
    consensus = form_consensus(opinions, Regime.UNSPECIFIED, T)
    assert consensus.action is Action.HOLD
    assert [p.raw_contribution for p in consensus.lineage] == pytest.approx([22.5, 40.0])
    assert consensus.raw_confidence == pytest.approx(62.5)


def test_regime_reweights_and_volatility_damps() -> None:
    # TRENDING: ma x1.5 = 0.45, rsi x0.5 = 0.1 -> w = 0.45/0.55, 0.1/0.55
    opinions = [_vote("ma_crossover", 1.0), _vote("rsi", 1.0)]
    trending = form_consensus(opinions, Regime.TRENDING, T)
    assert [p.weight for p in trending.lineage] == pytest.approx([0.45 / 0.55, 0.1 / 0.55])
    assert trending.raw_confidence == pytest.approx(100.0)
    volatile = form_consensus(opinions, Regime.VOLATILE, T)
    assert volatile.raw_confidence == pytest.approx(80.0)  # x volatile_confidence_factor


def test_no_effective_weight_is_hold_with_zero_confidence() -> None:
    consensus = form_consensus([_vote("rsi", 1.0, 0.0)], Regime.UNSPECIFIED, T)
    assert (consensus.action, consensus.raw_confidence) == (Action.HOLD, 0.0)
    assert [p.raw_contribution for p in consensus.lineage] == [0.0]


def test_unanimous_full_strength_buy_is_fully_confident() -> None:
    opinions = [_vote(s, 1.0) for s in SOURCE_NAMES]
    consensus = form_consensus(opinions, Regime.RANGING, T)
    assert consensus.action is Action.BUY
    assert consensus.raw_confidence == pytest.approx(100.0)


def test_weights_decide_between_disagreeing_sources() -> None:
    opinions = [_vote("ma_crossover", 1.0), _vote("rsi", -1.0)]
    trend_heavy = Tunables(weights={"ma_crossover": 1.0, "rsi": 0.1})
    reversion_heavy = Tunables(weights={"ma_crossover": 0.1, "rsi": 1.0})
    assert form_consensus(opinions, Regime.UNSPECIFIED, trend_heavy).action is Action.BUY
    assert form_consensus(opinions, Regime.UNSPECIFIED, reversion_heavy).action is Action.SELL


def test_a_provider_can_be_weighted_on_its_own() -> None:
    t = Tunables(weights={"ma_crossover": 0.3, "sentiment": 0.3, "sentiment:glm": 0.0})
    opinions = [
        _vote("ma_crossover", 0.0),
        _vote("sentiment:xai", 1.0),
        _vote("sentiment:glm", -1.0),
    ]
    consensus = form_consensus(opinions, Regime.UNSPECIFIED, t)
    assert [p.weight for p in consensus.lineage] == pytest.approx([0.5, 0.5, 0.0])


votes = st.lists(
    st.tuples(st.sampled_from(SOURCE_NAMES), st.floats(-1, 1), st.floats(0, 1)),
    min_size=1,
    max_size=6,
    unique_by=lambda v: v[0],
)
thresholds = st.floats(min_value=0.01, max_value=1.0)


@settings(max_examples=300, deadline=None)
@given(votes, st.sampled_from(list(Regime)), thresholds, thresholds)
def test_lineage_sums_to_the_confidence_and_weights_to_one(votes, regime, buy, sell) -> None:
    t = Tunables(buy_threshold=buy, sell_threshold=sell)
    consensus = form_consensus([_vote(s, d, c) for s, d, c in votes], regime, t)
    assert 0.0 <= consensus.raw_confidence <= 100.0
    assert -1.0 <= consensus.score <= 1.0
    shares = math.fsum(p.raw_contribution for p in consensus.lineage)
    assert abs(shares - consensus.raw_confidence) <= 1e-9
    if consensus.raw_confidence > 0.0:
        assert math.isclose(math.fsum(p.weight for p in consensus.lineage), 1.0, abs_tol=1e-12)
    assert consensus == form_consensus([_vote(s, d, c) for s, d, c in votes], regime, t)


# Random walks: 15..150 log-returns of up to +-5% from a price between $0.5 and $100k.
random_paths = st.builds(
    lambda start, steps: [start * math.exp(sum(steps[: i + 1])) for i in range(len(steps))],
    st.floats(min_value=0.5, max_value=100_000),
    st.lists(st.floats(min_value=-0.05, max_value=0.05), min_size=15, max_size=150),
)
calibrations = st.lists(st.tuples(st.floats(0, 100), st.floats(0, 1)), min_size=1, max_size=6).map(
    lambda pts: Calibration(symbol="AAPL", points=tuple(sorted(pts)))
)


@settings(max_examples=200, deadline=None)
@given(random_paths, st.floats(-1, 1), st.none() | calibrations)
def test_any_series_gives_a_well_formed_signal_whose_lineage_sums(
    closes: list[float], sentiment: float, calibration: Calibration | None
) -> None:
    opinion = SourceOpinion(source="sentiment:xai", direction=sentiment, confidence=0.7)
    signal = _signal(closes, sentiment=(opinion,), calibration=calibration)
    assert 0.0 <= signal.confidence <= 100.0 and 0.0 <= signal.raw_confidence <= 100.0
    if calibration is None:
        assert signal.confidence == signal.raw_confidence
    else:
        assert signal.confidence == calibration.apply(signal.raw_confidence)
    assert abs(math.fsum(p.contribution for p in signal.lineage) - signal.confidence) <= 1e-9
    raw_sum = math.fsum(p.raw_contribution for p in signal.lineage)
    assert abs(raw_sum - signal.raw_confidence) <= 1e-9
    entry, target, stop = signal.entry_price, signal.target_price, signal.stop_price
    if signal.action is Action.BUY:
        assert target > entry > stop > 0
    elif signal.action is Action.SELL:
        assert 0 < target < entry < stop
    else:
        assert target == entry == stop
    assert signal.expire_time == NOW + timedelta(seconds=T.horizon_seconds)
    assert all(-1.0 <= p.direction <= 1.0 and 0.0 <= p.confidence <= 1.0 for p in signal.lineage)


@settings(max_examples=50, deadline=None)
@given(random_paths)
def test_same_input_gives_the_same_signal(closes: list[float]) -> None:
    assert _signal(closes) == _signal(list(closes))


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
    values = indicator_values(bars_from_closes(closes, NOW))
    assert detect_regime(values, T) is regime


def test_price_levels_use_atr_multiples_within_bounds() -> None:
    assert price_levels(Action.BUY, 100.0, 1.0, T) == pytest.approx((102.0, 99.0))
    assert price_levels(Action.SELL, 100.0, 1.0, T) == pytest.approx((98.0, 101.0))
    assert price_levels(Action.HOLD, 100.0, 1.0, T) == (100.0, 100.0)
    assert price_levels(Action.BUY, 100.0, 0.0, T) == pytest.approx((100.1, 99.9))  # floor
    assert price_levels(Action.BUY, 100.0, 80.0, T) == pytest.approx((150.0, 50.0))  # cap
