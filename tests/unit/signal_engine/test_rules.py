"""Skip rule, volatility EWMA and symbol spelling."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from signal_engine.domain import (
    Action,
    InvalidSymbol,
    Regime,
    Signal,
    canonical_symbol,
    canonical_symbols,
    should_skip,
    update_ewma_variance,
)

NOW = datetime(2026, 11, 17, 15, 30, tzinfo=UTC)
LAST = Signal(
    signal_id="00000000-0000-4000-8000-000000000001",
    symbol="AAPL",
    action=Action.BUY,
    confidence=70.0,
    raw_confidence=70.0,
    entry_price=100.0,
    target_price=102.0,
    stop_price=99.0,
    create_time=NOW,
    expire_time=NOW + timedelta(minutes=15),
    regime=Regime.TRENDING,
)


@pytest.mark.parametrize(
    ("price", "expected"),
    [
        pytest.param(100.0, True, id="unchanged"),
        pytest.param(100.49, True, id="up-0.49pct"),
        pytest.param(99.51, True, id="down-0.49pct"),
        pytest.param(100.5, False, id="up-0.5pct"),
        pytest.param(99.4, False, id="down-0.6pct"),
    ],
)
def test_skip_when_move_is_below_threshold(price: float, expected: bool) -> None:
    assert should_skip(LAST, price, NOW + timedelta(seconds=5), 0.5, False) is expected


def test_no_skip_without_a_last_signal() -> None:
    assert should_skip(None, 100.0, NOW, 0.5, False) is False


def test_no_skip_once_the_last_signal_expired() -> None:
    assert should_skip(LAST, 100.0, LAST.expire_time, 0.5, False) is False
    assert should_skip(LAST, 100.0, LAST.expire_time - timedelta(seconds=1), 0.5, False)


def test_no_skip_when_another_input_changed() -> None:
    assert should_skip(LAST, 100.0, NOW, 0.5, True) is False


def test_no_skip_when_the_last_signal_is_stale() -> None:
    assert should_skip(replace(LAST, stale=True), 100.0, NOW, 0.5, False) is False


def test_threshold_is_configurable() -> None:
    assert should_skip(LAST, 100.9, NOW, 1.0, False) is True
    assert should_skip(LAST, 100.0, NOW, 0.0, False) is False


def test_ewma_variance_folds_in_squared_log_returns() -> None:
    assert update_ewma_variance(0.0, None, 100.0) == 0.0  # first price: nothing to fold
    r = math.log(101.0 / 100.0)
    assert update_ewma_variance(0.0, 100.0, 101.0) == pytest.approx(0.06 * r * r)
    assert update_ewma_variance(1e-4, 100.0, 100.0) == pytest.approx(0.94e-4)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("AAPL", "AAPL"),
        (" aapl ", "AAPL"),
        ("BRK.B", "BRK.B"),
        ("BTC-USD", "BTC-USD"),
        ("btc/usd", "BTC-USD"),
        ("X:BTCUSD", "BTC-USD"),
        ("ETHUSD", "ETH-USD"),
        ("ETH-USDT", "ETH-USDT"),
    ],
)
def test_canonical_symbol(raw: str, canonical: str) -> None:
    assert canonical_symbol(raw) == canonical


@pytest.mark.parametrize("raw", ["", "   ", "A" * 33, "AAPL!", "1ABC", "X:???", "BTC USD"])
def test_invalid_symbols_are_rejected(raw: str) -> None:
    with pytest.raises(InvalidSymbol):
        canonical_symbol(raw)


def test_canonical_symbols_drop_duplicates_keeping_first_mention() -> None:
    assert canonical_symbols(["btc/usd", "AAPL", "BTC-USD", "aapl"]) == ["BTC-USD", "AAPL"]
