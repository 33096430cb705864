"""Outcome rules on constructed price paths: target first, stop first, gaps, expiry, HOLD."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tracker.domain import (
    Action,
    OpenSignal,
    Outcome,
    PriceBar,
    PriceTick,
    Signal,
    evaluate,
)

from .factories import T0, make_sell, make_signal

MINUTE = timedelta(minutes=1)
BAND = 0.5


def bar(index: int, o: float, h: float, low: float, c: float, start: datetime = T0) -> PriceBar:
    """The index-th one-minute bar after `start`."""
    begin = start + index * MINUTE
    return PriceBar(start_time=begin, end_time=begin + MINUTE, open=o, high=h, low=low, close=c)


def opened(signal: Signal, **progress: object) -> OpenSignal:
    return OpenSignal(signal=signal, checked_through=signal.create_time, **progress)  # type: ignore[arg-type]


# A BUY at 100 with target 104 and stop 98, formed at T0, expiring at T0 + 4 h.
BUY = make_signal(entry_price=100.0, target_price=104.0, stop_price=98.0)
SELL = make_sell(entry_price=100.0, target_price=96.0, stop_price=102.0, create_time=T0)
HOLD = make_signal(action=Action.HOLD, entry_price=100.0, target_price=100.0, stop_price=100.0)
LATER = T0 + timedelta(minutes=30)


def test_target_first_wins_at_the_target() -> None:
    path = [
        bar(0, 100, 101, 99.5, 100.5),
        bar(1, 100.5, 104.2, 100.2, 103.9),
        bar(2, 104, 104, 97, 97),
    ]
    result = evaluate(opened(BUY), path, None, LATER, hold_band_pct=BAND)
    r = result.resolution
    assert r is not None and result.progress is None
    assert (r.outcome, r.exit_price, r.exit_time) == (Outcome.WIN, 104.0, T0 + 2 * MINUTE)
    assert r.pnl_percent == pytest.approx(4.0)


def test_stop_first_loses_at_the_stop() -> None:
    path = [bar(0, 100, 100.5, 97.9, 98.5), bar(1, 98.5, 105, 98.4, 104.5)]
    r = evaluate(opened(BUY), path, None, LATER, hold_band_pct=BAND).resolution
    assert r is not None
    assert (r.outcome, r.exit_price, r.exit_time) == (Outcome.LOSS, 98.0, T0 + MINUTE)
    assert r.pnl_percent == pytest.approx(-2.0)


def test_a_gap_through_the_stop_exits_at_the_open_not_the_stop() -> None:
    path = [bar(0, 100, 100.8, 99.6, 100.1), bar(1, 96.5, 97.0, 96.0, 96.8)]
    r = evaluate(opened(BUY), path, None, LATER, hold_band_pct=BAND).resolution
    assert r is not None
    assert (r.outcome, r.exit_price, r.exit_time) == (Outcome.LOSS, 96.5, T0 + MINUTE)
    assert r.pnl_percent == pytest.approx(-3.5)


def test_a_gap_through_the_target_exits_at_the_open() -> None:
    path = [bar(0, 105.0, 106.0, 104.5, 105.5)]
    r = evaluate(opened(BUY), path, None, LATER, hold_band_pct=BAND).resolution
    assert r is not None
    assert (r.outcome, r.exit_price, r.exit_time) == (Outcome.WIN, 105.0, T0)


def test_a_bar_through_both_levels_counts_as_the_stop_first() -> None:
    # Between two polls the price spanned both levels; the order is unknowable.
    path = [bar(0, 100, 100.2, 99.8, 100), bar(1, 100, 104.5, 97.5, 101)]
    r = evaluate(opened(BUY), path, None, LATER, hold_band_pct=BAND).resolution
    assert r is not None
    assert (r.outcome, r.exit_price) == (Outcome.LOSS, 98.0)


def test_sell_mirrors_buy() -> None:
    target_first = [bar(0, 100, 100.5, 95.9, 96.2)]
    r = evaluate(opened(SELL), target_first, None, LATER, hold_band_pct=BAND).resolution
    assert r is not None and (r.outcome, r.exit_price) == (Outcome.WIN, 96.0)
    assert r.pnl_percent == pytest.approx(4.0)
    gap_stop = [bar(0, 103.0, 103.5, 102.5, 103.2)]
    r = evaluate(opened(SELL), gap_stop, None, LATER, hold_band_pct=BAND).resolution
    assert r is not None and (r.outcome, r.exit_price) == (Outcome.LOSS, 103.0)
    assert r.pnl_percent == pytest.approx(-3.0)
    both = [bar(0, 100, 102.5, 95.5, 100)]
    r = evaluate(opened(SELL), both, None, LATER, hold_band_pct=BAND).resolution
    assert r is not None and (r.outcome, r.exit_price) == (Outcome.LOSS, 102.0)


def test_expiry_marks_to_market_at_the_last_price_before_expiry() -> None:
    start = BUY.expire_time - 3 * MINUTE
    path = [
        bar(0, 100, 101, 99, 100.8, start),
        bar(1, 100.8, 102, 100.5, 101.5, start),
        bar(2, 101.5, 103, 101, 102.5, start),  # ends exactly at expiry
        bar(3, 102.5, 110, 102, 109, start),  # after expiry: ignored
    ]
    after_expiry = BUY.expire_time + 10 * MINUTE
    r = evaluate(opened(BUY), path, None, after_expiry, hold_band_pct=BAND).resolution
    assert r is not None
    assert (r.outcome, r.exit_price, r.exit_time) == (Outcome.EXPIRED, 102.5, BUY.expire_time)
    assert r.pnl_percent == pytest.approx(2.5)


def test_expiry_with_no_trading_exits_at_the_last_mark_or_the_entry() -> None:
    after_expiry = BUY.expire_time + MINUTE
    r = evaluate(opened(BUY), [], None, after_expiry, hold_band_pct=BAND).resolution
    assert r is not None and (r.outcome, r.exit_price, r.pnl_percent) == (
        Outcome.EXPIRED,
        100.0,
        0.0,
    )
    marked = opened(BUY, mark_price=99.0, mark_time=T0 + MINUTE)
    r = evaluate(marked, [], None, after_expiry, hold_band_pct=BAND).resolution
    assert r is not None and r.exit_price == 99.0 and r.pnl_percent == pytest.approx(-1.0)


def test_hold_is_scored_on_direction_at_expiry_only() -> None:
    start = HOLD.expire_time - 2 * MINUTE
    wild_then_calm = [bar(0, 100, 108, 92, 100.2, start), bar(1, 100.2, 100.4, 100, 100.3, start)]
    before_expiry = evaluate(opened(HOLD), wild_then_calm, None, HOLD.expire_time - MINUTE,
                             hold_band_pct=BAND)  # fmt: skip
    assert before_expiry.resolution is None  # no early exit, however far it swung
    at_expiry = evaluate(opened(HOLD), wild_then_calm, None, HOLD.expire_time, hold_band_pct=BAND)
    r = at_expiry.resolution
    assert r is not None and (r.outcome, r.exit_price, r.pnl_percent) == (Outcome.WIN, 100.3, 0.0)
    drifted = [bar(0, 100, 101, 99.9, 100.9, start)]
    r = evaluate(opened(HOLD), drifted, None, HOLD.expire_time, hold_band_pct=BAND).resolution
    assert r is not None and r.outcome is Outcome.LOSS


def test_a_quote_beyond_a_level_resolves_at_the_level() -> None:
    tick = PriceTick(104.6, T0 + timedelta(seconds=75))
    r = evaluate(opened(BUY), [], tick, T0 + timedelta(seconds=80), hold_band_pct=BAND).resolution
    assert r is not None
    assert (r.outcome, r.exit_price, r.exit_time) == (Outcome.WIN, 104.0, tick.time)


def test_an_open_signal_advances_and_keeps_its_mark() -> None:
    path = [bar(0, 100, 101, 99, 100.5), bar(1, 100.5, 101.5, 100, 101.0)]
    tick = PriceTick(101.2, T0 + timedelta(seconds=130))
    result = evaluate(opened(BUY), path, tick, T0 + timedelta(seconds=140), hold_band_pct=BAND)
    assert result.resolution is None and result.progress is not None
    p = result.progress
    assert (p.checked_through, p.mark_price, p.mark_time) == (T0 + 2 * MINUTE, 101.2, tick.time)
    stale_tick = PriceTick(101.9, T0 + MINUTE)  # older than the bars examined: ignored
    again = evaluate(opened(BUY), path, stale_tick, T0 + 3 * MINUTE, hold_band_pct=BAND)
    assert again.progress is not None and again.progress.mark_price == 101.0


def test_bars_before_the_last_check_or_the_signal_are_not_examined() -> None:
    formed_mid_bar = make_signal(
        create_time=T0 + timedelta(seconds=30),
        entry_price=100.0,
        target_price=104.0,
        stop_price=98.0,
    )
    # The bar that began before the signal touched the target before it existed.
    path = [bar(0, 103, 105, 102, 100.2), bar(1, 100.2, 100.6, 99.8, 100.1)]
    result = evaluate(opened(formed_mid_bar), path, None, T0 + 3 * MINUTE, hold_band_pct=BAND)
    assert result.resolution is None
    assert result.progress is not None and result.progress.checked_through == T0 + 2 * MINUTE
    examined = OpenSignal(signal=BUY, checked_through=T0 + 2 * MINUTE)
    seen = [bar(1, 100, 105, 99, 101)]  # already examined in an earlier pass
    assert evaluate(examined, seen, None, LATER, hold_band_pct=BAND).resolution is None


def test_an_incomplete_bar_past_now_is_not_used() -> None:
    path = [bar(0, 100, 101, 99, 100.5), bar(1, 100.5, 106, 100, 105)]
    now = T0 + timedelta(seconds=90)  # the second bar is still forming
    result = evaluate(opened(BUY), path, None, now, hold_band_pct=BAND)
    assert result.resolution is None
    assert result.progress is not None and result.progress.checked_through == T0 + MINUTE
