"""The synthetic market: deterministic, session-aware, bars consistent with quotes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from market_gateway.adapters.calendar import NyseCalendar
from market_gateway.adapters.synthetic.market import SyntheticMarket
from market_gateway.domain import Bar, Timeframe, parse_symbol
from service_runtime.clock import FakeClock

AAPL, NVDA, BTC = parse_symbol("AAPL"), parse_symbol("NVDA"), parse_symbol("BTC-USD")
ANCHOR = date(2026, 11, 17)
pytestmark = pytest.mark.asyncio


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def market(nyse: NyseCalendar, now: datetime, *, seed: int = 7, **options: int) -> SyntheticMarket:
    return SyntheticMarket(clock=FakeClock(now), calendar=nyse, seed=seed, anchor=ANCHOR, **options)


INSTANTS = [
    utc(2026, 11, 17, 15, 30, 17),
    utc(2026, 11, 19, 20, 1, 3),
    utc(2026, 11, 12, 16, 45, 59),  # before the anchor: chained backwards
    utc(2026, 12, 3, 14, 31),
]


async def test_same_seed_symbol_and_instant_give_the_same_quote_in_any_query_order(
    nyse: NyseCalendar,
) -> None:
    forward, backward = market(nyse, INSTANTS[0]), market(nyse, INSTANTS[0])
    seen = {(s, t): forward.quote_at(s, t) for s in (AAPL, BTC) for t in INSTANTS}
    for t in reversed(INSTANTS):
        for s in (BTC, AAPL):
            assert backward.quote_at(s, t) == seen[(s, t)]
    assert forward.quote_at(AAPL, INSTANTS[1]) == seen[(AAPL, INSTANTS[1])]  # asked twice


async def test_seed_and_symbol_change_the_path(nyse: NyseCalendar) -> None:
    t = INSTANTS[1]
    base = market(nyse, t).quote_at(AAPL, t).price
    assert market(nyse, t, seed=8).quote_at(AAPL, t).price != base
    assert market(nyse, t).quote_at(parse_symbol("AAPL.B"), t).price != base


async def test_prices_start_near_their_nominal_levels(nyse: NyseCalendar) -> None:
    start = utc(2026, 11, 17, 0, 0)
    for symbol, nominal in ((AAPL, 230.0), (NVDA, 140.0), (BTC, 90_000.0)):
        price = market(nyse, start).quote_at(symbol, start).price
        assert abs(price / nominal - 1) < 0.05, (symbol, price)


async def test_a_quote_has_a_spread_volume_and_the_synthetic_provider(
    nyse: NyseCalendar,
) -> None:
    now = INSTANTS[0]
    quotes = await market(nyse, now).get_quotes([AAPL, BTC])
    for quote in quotes.values():
        assert quote.bid < quote.price < quote.ask
        assert quote.volume > 0 and quote.provider == "synthetic" and quote.time == now


async def test_stocks_are_frozen_outside_sessions_and_stamped_at_the_close(
    nyse: NyseCalendar,
) -> None:
    m = market(nyse, INSTANTS[0])
    friday_close = utc(2026, 11, 20, 21, 0)
    weekend = [utc(2026, 11, 20, 23, 0), utc(2026, 11, 21, 12, 0), utc(2026, 11, 23, 14, 29)]
    prices = {m.quote_at(AAPL, t).price for t in [friday_close, *weekend]}
    assert len(prices) == 1
    assert all(m.quote_at(AAPL, t).time == friday_close for t in weekend)
    assert m.quote_at(AAPL, utc(2026, 11, 23, 14, 45)).price not in prices  # Monday moves


async def test_stocks_honour_holidays_and_early_closes(nyse: NyseCalendar) -> None:
    m = market(nyse, utc(2026, 12, 1))
    thanksgiving = [utc(2026, 11, 26, h) for h in (3, 15, 19)]
    assert len({m.quote_at(AAPL, t).price for t in thanksgiving}) == 1
    holiday = utc(2026, 11, 26)
    assert await m.get_bars(AAPL, Timeframe.ONE_MINUTE, holiday, utc(2026, 11, 27), 10) == []
    early_close = utc(2026, 11, 27, 18, 0)  # 13:00 New York
    after = [early_close, utc(2026, 11, 27, 19, 30), utc(2026, 11, 27, 23, 0)]
    assert len({m.quote_at(AAPL, t).price for t in after}) == 1
    day_bars = await m.get_bars(AAPL, Timeframe.ONE_MINUTE, utc(2026, 11, 27), after[-1], 5000)
    assert day_bars[0].start_time == utc(2026, 11, 27, 14, 30)
    assert day_bars[-1].start_time == utc(2026, 11, 27, 17, 59)
    assert len(day_bars) == 210  # 09:30..13:00


async def test_crypto_trades_around_the_clock(nyse: NyseCalendar) -> None:
    m = market(nyse, utc(2026, 12, 1))
    saturday = [utc(2026, 11, 21, 12, 0), utc(2026, 11, 21, 12, 0, 30)]
    assert len({m.quote_at(BTC, t).price for t in saturday}) == 2
    bars = await m.get_bars(BTC, Timeframe.ONE_HOUR, utc(2026, 11, 21), utc(2026, 11, 22), 100)
    assert len(bars) == 24


def within(bar: Bar, price: float) -> bool:
    return bar.low <= price <= bar.high


async def test_quotes_inside_a_bar_lie_within_its_range_and_match_open_and_close(
    nyse: NyseCalendar,
) -> None:
    now = utc(2026, 11, 18, 16, 0)
    m = market(nyse, now)
    for symbol in (AAPL, BTC):
        bars = await m.get_bars(symbol, Timeframe.ONE_MINUTE, None, now, 30)
        assert len(bars) == 30 and bars[-1].start_time == now - timedelta(minutes=1)
        for bar in bars:
            assert m.quote_at(symbol, bar.start_time).price == bar.open
            assert m.quote_at(symbol, bar.start_time + timedelta(minutes=1)).price == bar.close
            for second in (7, 13.5, 31, 59.9):
                quote = m.quote_at(symbol, bar.start_time + timedelta(seconds=second))
                assert within(bar, quote.price)


@pytest.mark.parametrize(
    "timeframe", [Timeframe.FIVE_MINUTES, Timeframe.FIFTEEN_MINUTES, Timeframe.ONE_HOUR]
)
async def test_wider_bars_aggregate_the_one_minute_bars(
    nyse: NyseCalendar, timeframe: Timeframe
) -> None:
    now = utc(2026, 11, 18, 21, 0)
    m = market(nyse, now)
    wide = await m.get_bars(AAPL, timeframe, utc(2026, 11, 18), now, 100)
    minutes = await m.get_bars(AAPL, Timeframe.ONE_MINUTE, utc(2026, 11, 18), now, 5000)
    assert wide and sum(b.volume for b in wide) == sum(b.volume for b in minutes)
    for bar in wide:
        inside = [
            b for b in minutes if bar.start_time <= b.start_time < bar.start_time + timeframe.width
        ]
        assert bar.open == inside[0].open and bar.close == inside[-1].close
        assert bar.high == max(b.high for b in inside) and bar.low == min(b.low for b in inside)
        assert bar.volume == sum(b.volume for b in inside)
        assert bar.low <= bar.vwap <= bar.high and bar.trade_count > 0


async def test_daily_bar_summarises_the_session(nyse: NyseCalendar) -> None:
    now = utc(2026, 11, 20, 12, 0)
    m = market(nyse, now)
    daily = await m.get_bars(AAPL, Timeframe.ONE_DAY, None, now, 3)
    assert [b.start_time for b in daily] == [utc(2026, 11, d) for d in (17, 18, 19)]
    minutes = await m.get_bars(
        AAPL, Timeframe.ONE_MINUTE, utc(2026, 11, 19), utc(2026, 11, 20), 5000
    )
    day = daily[-1]
    assert len(minutes) == 390
    assert (day.open, day.close) == (minutes[0].open, minutes[-1].close)
    assert day.high == max(b.high for b in minutes) and day.low == min(b.low for b in minutes)
    assert day.volume == sum(b.volume for b in minutes)
    assert m.quote_at(AAPL, now).price == day.close  # frozen since the close


async def test_only_completed_bars_are_returned_newest_last(nyse: NyseCalendar) -> None:
    now = utc(2026, 11, 17, 15, 30, 20)
    m = market(nyse, now)
    bars = await m.get_bars(AAPL, Timeframe.ONE_MINUTE, None, now, 200)
    assert len(bars) == 200
    assert bars[-1].start_time == utc(2026, 11, 17, 15, 29)
    starts = [b.start_time for b in bars]
    assert starts == sorted(starts) and len(set(starts)) == 200
    assert all(nyse.is_open(t, AAPL.asset_class) for t in starts)
    # the window continues into the previous session, skipping the night
    assert bars[0].start_time.date() == date(2026, 11, 16)
    today = await m.get_bars(AAPL, Timeframe.ONE_DAY, None, now, 1)
    assert today[-1].start_time == utc(2026, 11, 16)  # today's session is not complete


async def test_window_returns_the_first_bars_from_start(nyse: NyseCalendar) -> None:
    now = utc(2026, 11, 18, 0, 0)
    m = market(nyse, now)
    start = utc(2026, 11, 17, 15, 0)
    bars = await m.get_bars(BTC, Timeframe.FIVE_MINUTES, start, now, 4)
    assert [b.start_time for b in bars] == [start + timedelta(minutes=5 * i) for i in range(4)]
    future = await m.get_bars(
        BTC, Timeframe.ONE_MINUTE, utc(2026, 11, 18, 1), utc(2026, 11, 19), 10
    )
    assert future == []


async def test_quote_volume_counts_the_session_so_far(nyse: NyseCalendar) -> None:
    now = utc(2026, 11, 17, 16, 0)
    m = market(nyse, now)
    bars = await m.get_bars(AAPL, Timeframe.ONE_MINUTE, utc(2026, 11, 17), now, 5000)
    assert m.quote_at(AAPL, now).volume == sum(b.volume for b in bars)
    evening = m.quote_at(AAPL, utc(2026, 11, 17, 23, 0)).volume
    next_morning = m.quote_at(AAPL, utc(2026, 11, 18, 9, 0)).volume
    assert evening == next_morning > m.quote_at(AAPL, now).volume


async def test_memory_holds_a_bounded_number_of_day_paths(nyse: NyseCalendar) -> None:
    m = market(nyse, INSTANTS[0], max_cached_days=3)
    for day in range(10):
        m.quote_at(BTC, utc(2026, 11, 17) + timedelta(days=day, hours=5))
    assert m.cached_days == 3


async def test_forgotten_ledgers_are_rebuilt_to_the_same_prices(nyse: NyseCalendar) -> None:
    m = market(nyse, INSTANTS[0], max_ledger_days=6, max_cached_days=2)
    t = utc(2026, 11, 21, 15, 0)  # day 4 after the anchor: a 5-day ledger per symbol
    first = m.quote_at(AAPL, t)
    m.quote_at(BTC, t)
    assert m.cached_symbols == 1  # AAPL's ledger made way for BTC's
    assert m.quote_at(AAPL, t) == first


async def test_volatility_scale_redraws_and_restoring_it_restores_prices(
    nyse: NyseCalendar,
) -> None:
    m = market(nyse, INSTANTS[0])
    t = utc(2026, 11, 24, 12, 0)
    calm = m.quote_at(BTC, t).price
    m.set_volatility_scale(3.0)
    assert m.quote_at(BTC, t).price != calm
    m.set_volatility_scale(1.0)
    assert m.quote_at(BTC, t).price == calm
