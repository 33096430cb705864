"""Skip and dedup rules, quote volatility and polling, rendezvous, calibration, symbols."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from signal_engine.domain import (
    Action,
    Calibration,
    InvalidSymbol,
    QuoteVolatility,
    Regime,
    Signal,
    Tunables,
    canonical_symbol,
    canonical_symbols,
    is_crypto,
    is_repeat,
    poll_interval,
    rendezvous_owner,
    should_skip,
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


def test_quote_volatility_is_an_ewma_of_squared_log_returns_per_second() -> None:
    first = QuoteVolatility().observe(100.0, NOW)
    assert first.variance_per_second == 0.0 and not first.known  # nothing to fold yet
    r = math.log(101.0 / 100.0)
    second = first.observe(101.0, NOW + timedelta(seconds=4))
    assert second.variance_per_second == pytest.approx(0.06 * r * r / 4) and second.known
    third = second.observe(101.0, NOW + timedelta(seconds=8))
    assert third.variance_per_second == pytest.approx(0.94 * 0.06 * r * r / 4)
    # 1% over 4 s: sqrt(0.06 r^2 / 4 * 60) per sqrt(minute), in percent
    assert second.pct_per_minute == pytest.approx(math.sqrt(0.06 * r * r * 15) * 100)


def test_poll_interval_by_session_and_quietness() -> None:
    t = Tunables(quiet_volatility_pct=0.05, quiet_poll_multiplier=3, off_session_poll_seconds=60)
    quiet = QuoteVolatility().observe(100.0, NOW).observe(100.0, NOW + timedelta(seconds=5))
    busy = quiet.observe(102.0, NOW + timedelta(seconds=10))
    unknown = QuoteVolatility().observe(100.0, NOW)
    assert poll_interval(5.0, busy, crypto=False, session_open=True, t=t) == 5.0
    assert poll_interval(5.0, quiet, crypto=False, session_open=True, t=t) == 15.0
    assert poll_interval(5.0, unknown, crypto=False, session_open=True, t=t) == 5.0
    assert poll_interval(5.0, busy, crypto=False, session_open=False, t=t) == 60.0
    assert poll_interval(5.0, busy, crypto=True, session_open=False, t=t) == 5.0  # never closes
    assert poll_interval(5.0, quiet, crypto=True, session_open=False, t=t) == 15.0


def test_a_repeat_says_what_the_last_published_signal_says_within_the_window() -> None:
    t = Tunables(dedup_window_seconds=60, dedup_confidence_points=1.0)
    later = NOW + timedelta(seconds=30)
    same = replace(
        LAST, signal_id="other", create_time=later, expire_time=later + timedelta(minutes=15)
    )
    assert is_repeat(LAST, same, t)
    assert is_repeat(LAST, replace(same, confidence=70.9), t)
    assert not is_repeat(LAST, replace(same, confidence=71.5), t)
    assert not is_repeat(
        LAST, replace(same, entry_price=100.6, target_price=103, stop_price=99.5), t
    )
    assert not is_repeat(LAST, replace(same, regime=Regime.VOLATILE), t)
    held = replace(same, action=Action.HOLD, target_price=100.0, stop_price=100.0)
    assert not is_repeat(LAST, held, t)
    assert not is_repeat(replace(LAST, stale=True), same, t)
    assert not is_repeat(None, same, t)
    assert not is_repeat(LAST, same, replace(t, dedup_window_seconds=30))


def test_rendezvous_owner_is_stable_and_moves_only_what_the_change_touches() -> None:
    symbols = [f"S{i}" for i in range(200)]
    two = {s: rendezvous_owner(s, ["a", "b"]) for s in symbols}
    assert two == {s: rendezvous_owner(s, ["b", "a"]) for s in symbols}  # order-free
    assert 60 < sum(owner == "a" for owner in two.values()) < 140  # roughly even
    three = {s: rendezvous_owner(s, ["a", "b", "c"]) for s in symbols}
    moved = [s for s in symbols if three[s] != two[s]]
    assert moved and all(three[s] == "c" for s in moved)  # only to the newcomer
    assert rendezvous_owner("AAPL", []) is None


def test_calibration_interpolates_between_knots_and_holds_beyond_them() -> None:
    calibration = Calibration(symbol="", points=((20.0, 0.3), (60.0, 0.5), (80.0, 0.9)))
    assert calibration.apply(10.0) == pytest.approx(30.0)
    assert calibration.apply(40.0) == pytest.approx(40.0)  # halfway 0.3 -> 0.5
    assert calibration.apply(70.0) == pytest.approx(70.0)  # halfway 0.5 -> 0.9
    assert calibration.apply(95.0) == pytest.approx(90.0)
    with pytest.raises(ValueError, match="ascending"):
        Calibration(symbol="", points=((50.0, 0.5), (40.0, 0.6)))
    with pytest.raises(ValueError, match="probability"):
        Calibration(symbol="", points=((50.0, 1.5),))


def test_crypto_pairs_are_told_from_tickers() -> None:
    assert is_crypto("BTC-USD") and is_crypto("ETH-USDT")
    assert not is_crypto("AAPL") and not is_crypto("BRK.B") and not is_crypto("BF-B")


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
