"""The adaptive TTL policy: NYSE calendar, volatility, data type, clamps, cache entries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from market_gateway.adapters.calendar import NyseCalendar
from market_gateway.app.ttl_policy import TtlPolicy, VolatilityTracker
from market_gateway.config import Tunables, parse_tunables
from market_gateway.domain import Bar, CachedBars, Quote, Timeframe, parse_symbol
from service_runtime.clock import FakeClock

SESSION = datetime(2026, 11, 17, 15, 30, tzinfo=UTC)  # Tuesday 10:30 New York
SATURDAY = datetime(2026, 11, 21, 15, 0, tzinfo=UTC)
THANKSGIVING = datetime(2026, 11, 26, 16, 0, tzinfo=UTC)  # a Thursday, NYSE closed
BLACK_FRIDAY_LATE = datetime(2026, 11, 27, 19, 0, tzinfo=UTC)  # 14:00 NY: closed at 13:00
AAPL, BTC = parse_symbol("AAPL"), parse_symbol("BTC-USD")


def policy(nyse: NyseCalendar, clock: FakeClock, raw: dict[str, object] | None = None) -> TtlPolicy:
    tunables = parse_tunables(raw or {})
    return TtlPolicy(nyse, clock, lambda: tunables, VolatilityTracker())


def test_in_a_session_quotes_use_their_short_base_and_other_types_the_seed_base(
    nyse: NyseCalendar,
) -> None:
    ttl = policy(nyse, FakeClock(SESSION))
    assert ttl.fresh_seconds("market_data", AAPL) == 1.0
    assert ttl.fresh_seconds("bars", AAPL) == 120.0
    assert ttl.fresh_seconds("indicators", AAPL) == 180.0
    assert ttl.fresh_seconds("sentiment", AAPL) == 240.0
    assert ttl.fresh_seconds("consensus", AAPL) == 360.0
    assert ttl.fresh_seconds("ai_reasoning", AAPL) == 1200.0


@pytest.mark.parametrize("closed", [SATURDAY, THANKSGIVING, BLACK_FRIDAY_LATE])
def test_outside_the_session_stocks_keep_longer_and_crypto_does_not(
    nyse: NyseCalendar, closed: datetime
) -> None:
    ttl = policy(nyse, FakeClock(closed))
    assert ttl.fresh_seconds("sentiment", AAPL) == 720.0  # 240 x 3
    assert ttl.fresh_seconds("market_data", AAPL) == 10.0  # 1 x 3, clamped up to 10 s
    assert ttl.fresh_seconds("market_data", BTC) == 1.0  # crypto never closes
    assert ttl.fresh_seconds("sentiment", BTC) == 240.0


def test_the_early_close_is_a_session_until_one_oclock(nyse: NyseCalendar) -> None:
    noon = BLACK_FRIDAY_LATE - timedelta(hours=2)  # 12:00 New York
    assert policy(nyse, FakeClock(noon)).fresh_seconds("bars", AAPL) == 120.0
    assert policy(nyse, FakeClock(BLACK_FRIDAY_LATE)).fresh_seconds("bars", AAPL) == 360.0


def test_volatility_halves_or_doubles_the_ttl(nyse: NyseCalendar) -> None:
    clock = FakeClock(SESSION)
    ttl = policy(nyse, clock)
    assert ttl.volatility_multiplier("AAPL") == 1.0  # unknown until two prices were seen
    for minutes, price in ((0, 100.0), (10, 106.0), (20, 104.0)):
        ttl.volatility.observe("AAPL", price, SESSION + timedelta(minutes=minutes))
    assert ttl.volatility.volatility_pct("AAPL") == pytest.approx(6 / 104 * 100)
    assert ttl.fresh_seconds("sentiment", AAPL) == 120.0  # > 5 %: x0.5
    for minutes, price in ((0, 50_000.0), (5, 50_100.0)):
        ttl.volatility.observe("BTC-USD", price, SESSION + timedelta(minutes=minutes))
    assert ttl.fresh_seconds("sentiment", BTC) == 480.0  # 0.2 % < 1 %: x2
    ttl.volatility.observe("BTC-USD", 52_000.0, SESSION + timedelta(minutes=6))
    assert ttl.fresh_seconds("sentiment", BTC) == 240.0  # 3.9 %: x1


def test_prices_older_than_a_day_leave_the_volatility_window() -> None:
    tracker = VolatilityTracker()
    tracker.observe("AAPL", 100.0, SESSION)
    tracker.observe("AAPL", 120.0, SESSION + timedelta(hours=1))
    tracker.observe("AAPL", 121.0, SESSION + timedelta(hours=25))
    tracker.observe("AAPL", 1.0, SESSION)  # out of order: ignored
    assert tracker.volatility_pct("AAPL") == pytest.approx(1 / 121 * 100)


def test_every_ttl_is_clamped(nyse: NyseCalendar) -> None:
    raw = {"quote_ttl_seconds": 0.1, "ttl": {"base_seconds": 5000, "quote_min_seconds": 0.5}}
    ttl = policy(nyse, FakeClock(SESSION), raw)
    assert ttl.fresh_seconds("market_data", AAPL) == 0.5  # the quotes' floor in a session
    assert ttl.fresh_seconds("ai_reasoning", AAPL) == 3600.0  # 50 000 s clamped to 1 h
    low = policy(nyse, FakeClock(SESSION), {"ttl": {"base_seconds": 2}})
    assert low.fresh_seconds("bars", AAPL) == 10.0  # the 10 s floor for everything else


def test_cache_entries_get_fresh_revalidate_and_error_windows(nyse: NyseCalendar) -> None:
    ttl = policy(nyse, FakeClock(SESSION))
    quote = Quote("AAPL", 230.0, 229.9, 230.1, 10.0, SESSION, "polygon")
    entry = ttl.for_entry("quote:AAPL", quote)
    assert (entry.fresh, entry.stale_while_revalidate, entry.stale_if_error) == (1.0, 1.0, 300.0)
    bars = CachedBars("BTC-USD", Timeframe.ONE_MINUTE, "polygon", 10, (), SESSION)
    kept = ttl.for_entry("bars:BTC-USD:60", bars)
    assert kept.fresh == 120.0 and kept.stale_while_revalidate == 3600.0  # history is kept
    assert ttl.for_entry("sentiment:BTC-USD", object()).fresh == 240.0


def test_bars_feed_the_volatility_estimate(nyse: NyseCalendar) -> None:
    ttl = policy(nyse, FakeClock(SESSION))
    bars = [
        Bar(SESSION - timedelta(minutes=2), 10, 11, 9, 10.0, 1),
        Bar(SESSION - timedelta(minutes=1), 10, 11, 9, 11.0, 1),
    ]
    ttl.volatility.observe_bars("AAPL", bars)
    assert ttl.volatility_multiplier("AAPL") == 0.5  # 10 -> 11 is 9 %


def test_defaults_match_the_design(nyse: NyseCalendar) -> None:
    settings = Tunables().ttl
    assert (settings.min_seconds, settings.max_seconds, settings.base_seconds) == (10, 3600, 120)
    assert dict(settings.multipliers) == {
        "market_data": 1.0,
        "bars": 1.0,
        "indicators": 1.5,
        "sentiment": 2.0,
        "consensus": 3.0,
        "ai_reasoning": 10.0,
    }
    assert Tunables().off_hours_ttl_multiplier == 3.0
