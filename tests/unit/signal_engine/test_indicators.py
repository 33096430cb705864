"""Indicators against values computed by hand (and StockCharts' published RSI table)."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from signal_engine.domain import Bar
from signal_engine.domain import indicators as ind

# StockCharts' RSI(14) worked example ("RSI" ChartSchool article): 14-day RSI of these
# closes is 70.53, then 66.32, 66.55 and 69.41 on the next three closes.
STOCKCHARTS_CLOSES = [
    44.3389, 44.0902, 44.1497, 43.6124, 44.3278, 44.8264, 45.0955, 45.4245,
    45.8433, 46.0826, 45.8931, 46.0328, 45.6140, 46.2820, 46.2820,
]  # fmt: skip


def test_sma_of_last_period_values() -> None:
    assert ind.sma([1, 2, 3, 4, 5], 3) == pytest.approx(4.0)
    assert ind.sma([1, 2], 3) is None


def test_ema_is_seeded_with_sma_then_smoothed() -> None:
    # alpha = 2/(3+1) = 0.5; seed mean(1,2,3) = 2; then 2+0.5*(4-2) = 3; 3+0.5*(5-3) = 4
    assert ind.ema_series([1, 2, 3, 4, 5], 3) == pytest.approx([2.0, 3.0, 4.0])
    assert ind.ema([1, 2, 3, 4, 5], 3) == pytest.approx(4.0)
    assert ind.ema([1, 2], 3) is None


def test_rsi_by_hand_with_period_three() -> None:
    # diffs +1 +1 -1 | +2: seed gain 2/3, loss 1/3; Wilder: gain (2/3*2+2)/3 = 10/9,
    # loss (1/3*2+0)/3 = 2/9 -> RS 5 -> RSI 100 - 100/6
    assert ind.rsi([10, 11, 12, 11, 13], 3) == pytest.approx(100 - 100 / 6)


def test_rsi_matches_the_stockcharts_worked_example() -> None:
    assert ind.rsi(STOCKCHARTS_CLOSES) == pytest.approx(70.53, abs=0.01)
    following = [46.0028, 46.0328, 46.4116]
    expected = [66.32, 66.55, 69.41]
    for count, want in zip(range(1, 4), expected, strict=True):
        assert ind.rsi(STOCKCHARTS_CLOSES + following[:count]) == pytest.approx(want, abs=0.01)


@pytest.mark.parametrize(
    ("closes", "expected"),
    [
        pytest.param([float(i) for i in range(1, 17)], 100.0, id="only-gains"),
        pytest.param([float(i) for i in range(17, 1, -1)], 0.0, id="only-losses"),
        pytest.param([5.0] * 16, 50.0, id="flat"),
    ],
)
def test_rsi_extremes(closes: list[float], expected: float) -> None:
    assert ind.rsi(closes) == pytest.approx(expected)


def test_rsi_needs_period_plus_one_closes() -> None:
    assert ind.rsi(STOCKCHARTS_CLOSES[:14]) is None


def test_macd_of_a_straight_line_by_hand() -> None:
    # EMA2 (alpha 2/3) of 1..6 from index 1: 1.5 2.5 3.5 4.5 5.5; EMA3 from index 2: 2 3 4 5;
    # line = 0.5 everywhere, signal EMA2 of the line = 0.5, histogram 0
    line, signal, histogram = ind.macd([1, 2, 3, 4, 5, 6], fast=2, slow=3, signal=2) or (0, 0, 0)
    assert (line, signal, histogram) == pytest.approx((0.5, 0.5, 0.0))
    assert ind.macd([1.0] * 30) is None  # 26 + 9 - 1 = 34 closes needed by default


def test_momentum_is_rate_of_change() -> None:
    assert ind.momentum([100, 101, 102, 110], 3) == pytest.approx(0.10)
    assert ind.momentum([100, 110], 3) is None


def test_realised_volatility_is_sample_stdev_of_log_returns() -> None:
    a, b = math.log(1.1), math.log(0.9)
    assert ind.realised_volatility([100, 110, 99]) == pytest.approx(abs(a - b) / math.sqrt(2))
    assert ind.realised_volatility([100, 110]) is None


def _bar(high: float, low: float, close: float) -> Bar:
    return Bar(
        start_time=datetime(2026, 1, 2, tzinfo=UTC), open=close, high=high, low=low, close=close
    )


def test_atr_by_hand_with_period_two() -> None:
    bars = [_bar(10, 9, 9.5), _bar(11, 9.5, 10.5), _bar(10.8, 10, 10.2), _bar(12, 10.1, 11.8)]
    # true ranges 1.5, 0.8, 1.9; seed (1.5+0.8)/2 = 1.15; Wilder (1.15*1+1.9)/2 = 1.525
    assert ind.atr(bars, 2) == pytest.approx(1.525)
    assert ind.atr(bars[:2], 2) is None


def test_efficiency_ratio_net_move_over_path() -> None:
    assert ind.efficiency_ratio([1, 2, 1, 2, 3], 4) == pytest.approx(0.5)
    assert ind.efficiency_ratio([1, 2, 3, 4, 5], 4) == pytest.approx(1.0)
    assert ind.efficiency_ratio([2, 2, 2, 2, 2], 4) == 0.0


def test_bollinger_position_by_hand() -> None:
    # window 2, 4, 6, 8: mean 5, population stdev sqrt(5); close 8 -> (8-5)/(2*sqrt 5)
    assert ind.bollinger_position([2, 4, 6, 8], 4) == pytest.approx(3 / (2 * math.sqrt(5)))
    assert ind.bollinger_position([3, 3, 3, 3], 4) == 0.0
    assert ind.bollinger_position([1, 2, 3], 4) is None


def test_the_snapshot_has_each_indicator_once_its_history_allows() -> None:
    closes = [100 + (i % 7) - (i % 3) * 0.5 for i in range(40)]
    bars = [_bar(c + 0.5, c - 0.5, c) for c in closes]
    values = ind.indicator_values(bars)
    assert values.bars == 40 and values.last_close == closes[-1]
    assert values.sma_slow == ind.sma(closes, 21) and values.rsi == ind.rsi(closes, 14)
    line, signal, histogram = ind.macd(closes) or (0.0, 0.0, 0.0)
    assert (values.macd_line, values.macd_signal) == (line, signal)
    assert values.macd_histogram == pytest.approx(histogram)
    assert values.volatility == ind.realised_volatility(closes, 60)
    short = ind.indicator_values(bars[:12])
    assert short.rsi is None and short.atr is None and short.macd_line is None
    assert short.momentum == ind.momentum(closes[:12], 10)
