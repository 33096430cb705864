"""Incremental indicators: updating from new bars only gives exactly the batch values."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signal_engine.domain import Bar, IndicatorState, indicator_values
from signal_engine.domain import indicators as ind

from .test_indicators import STOCKCHARTS_CLOSES

T0 = datetime(2026, 11, 17, 14, 30, tzinfo=UTC)


def bars_of(closes: list[float], spreads: list[float] | None = None) -> list[Bar]:
    spreads = spreads or [0.002] * len(closes)
    return [
        Bar(
            start_time=T0 + timedelta(minutes=i),
            open=c,
            high=c * (1 + s),
            low=c * (1 - s / 2),
            close=c,
        )
        for i, (c, s) in enumerate(zip(closes, spreads, strict=True))
    ]


paths = st.integers(min_value=1, max_value=160).flatmap(
    lambda n: st.tuples(
        st.lists(st.floats(-0.03, 0.03), min_size=n, max_size=n),
        st.lists(st.floats(0.0, 0.02), min_size=n, max_size=n),
        st.lists(st.integers(1, 40), min_size=1, max_size=30),
        st.lists(st.integers(0, 3), min_size=1, max_size=30),
    )
)


@settings(max_examples=60, deadline=None)
@given(paths)
def test_any_chunking_equals_the_batch_computation_exactly(path) -> None:
    steps, spreads, chunks, overlaps = path
    closes = [100.0 * math.exp(sum(steps[: i + 1])) for i in range(len(steps))]
    bars = bars_of(closes, spreads)
    state = IndicatorState()
    done = 0
    for i, size in enumerate(chunks * (len(bars) // len(chunks) + 1)):
        if done >= len(bars):
            break
        overlap = overlaps[i % len(overlaps)]  # windows may repeat bars already held
        added = state.update(bars[max(0, done - overlap) : done + size])
        assert added == min(size, len(bars) - done)
        done += added
        assert state.values() == indicator_values(bars[:done])  # identical floats
    assert state.bars == len(bars) and state.last_bar_start == bars[-1].start_time


def test_rsi_bar_by_bar_matches_the_stockcharts_worked_example() -> None:
    following = [46.0028, 46.0328, 46.4116]
    state = IndicatorState()
    state.update(bars_of(STOCKCHARTS_CLOSES))
    seen = [state.values().rsi]
    for i, close in enumerate(following):
        state.update([Bar(start_time=T0 + timedelta(minutes=15 + i), open=close, high=close,
                          low=close, close=close)])  # fmt: skip
        seen.append(state.values().rsi)
    assert seen == pytest.approx([70.53, 66.32, 66.55, 69.41], abs=0.01)


def test_ema_and_sma_by_hand_after_each_bar() -> None:
    # EMA(9): alpha 0.2, seeded with mean(1..9) = 5; then 5 + 0.2*(10-5) = 6; 6 + 0.2*(11-6) = 7
    state = IndicatorState()
    expected = {9: 5.0, 10: 6.0, 11: 7.0}
    for n in range(1, 12):
        state.update(bars_of([float(i) for i in range(1, n + 1)])[-1:])
        assert state.values().ema_fast == expected.get(n)
    # SMA(21) of 1..21 = 11; momentum(10) of ...,11,...,21 = 21/11 - 1
    state.update(bars_of([float(i) for i in range(1, 22)])[-10:])
    assert state.values().sma_slow == 11.0
    assert state.values().momentum == pytest.approx(21 / 11 - 1)


def test_atr_and_returns_window_by_hand() -> None:
    closes = [10.0, 10.5, 10.2, 11.8]
    ranges = [(10, 9, 10.0), (11, 9.5, 10.5), (10.8, 10, 10.2), (12, 10.1, 11.8)]
    bars = [
        Bar(start_time=T0 + timedelta(minutes=i), open=c, high=h, low=lo, close=c)
        for i, (h, lo, c) in enumerate(ranges)
    ]
    state = IndicatorState()
    for bar in bars:
        state.update([bar])
    # ATR(14) needs 15 bars; the batch function with period 2 gives 1.525 for these
    assert state.values().atr is None and ind.atr(bars, 2) == pytest.approx(1.525)
    returns = [math.log(b / a) for a, b in zip(closes, closes[1:], strict=False)]
    assert state.values().volatility == pytest.approx(ind.statistics.stdev(returns))


def test_values_before_any_bar_is_an_error() -> None:
    with pytest.raises(ValueError, match="no bars"):
        IndicatorState().values()
