"""The market view: the gateway's synthetic prices, today's running bar (memoised per
minute, exact), previous day, and a provider's price skew."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from market_gateway.adapters.calendar import NyseCalendar
from market_gateway.adapters.synthetic.market import SyntheticMarket
from market_gateway.domain import Timeframe, parse_symbol
from service_runtime.clock import FakeClock
from tests.unit.provider_sim.conftest import SESSION_START, running
from tools.provider_sim.market import MarketView, aggregate


def view(calendar: NyseCalendar, clock: FakeClock) -> MarketView:
    market = SyntheticMarket(clock=clock, calendar=calendar, seed=42, anchor=SESSION_START.date())
    return MarketView(market, calendar, clock, unknown=["ZZZZ"], universe=["AAPL", "BTC-USD"])


@pytest.mark.asyncio
async def test_todays_bar_is_the_sessions_minutes_and_moves_with_the_clock(
    calendar: NyseCalendar,
) -> None:
    clock = FakeClock(SESSION_START)
    market, aapl = view(calendar, clock), parse_symbol("AAPL")
    today = await market.today(aapl)
    minutes = await market.bars(
        aapl, Timeframe.ONE_MINUTE, SESSION_START - timedelta(hours=1), SESSION_START, 100
    )
    assert today is not None and today.day.isoformat() == "2026-11-17"
    assert len(minutes) == 60 and today.bar == aggregate(minutes, today.bar.start_time)
    assert await market.today(aapl) is today  # same minute: memoised
    clock.advance(60)
    later = await market.today(aapl)
    assert later is not None and later.bar.volume > today.bar.volume
    previous = await market.previous_day(aapl)
    assert previous is not None and previous.day.isoformat() == "2026-11-16"
    assert previous.bar.close == today.bar.open  # the synthetic market chains days


def test_lookup_accepts_every_provider_spelling_and_refuses_unknown_ones(
    calendar: NyseCalendar,
) -> None:
    market = view(calendar, FakeClock(SESSION_START))
    spellings = ["BTC-USD", "BTC/USD", "X:BTCUSD", "btcusd"]
    assert {market.lookup(s).canonical for s in spellings} == {"BTC-USD"}  # type: ignore[union-attr]
    assert market.lookup("ZZZZ") is None and market.lookup("not a symbol!") is None


@pytest.mark.asyncio
async def test_a_skewed_provider_quotes_off_by_its_basis_points(
    calendar: NyseCalendar, client: httpx.AsyncClient
) -> None:
    config = {"providers": {"alpaca": {"skew_bps": 100}}}
    async with running(calendar, config) as sim:
        polygon = await client.get(
            sim.base_url("polygon") + "/v2/last/trade/AAPL",
            params={"apiKey": sim.api_key("polygon")},
        )
        keys = sim.config.provider("alpaca")
        alpaca = await client.get(
            sim.base_url("alpaca") + "/v2/stocks/trades/latest?symbols=AAPL",
            headers={"APCA-API-KEY-ID": keys.api_key, "APCA-API-SECRET-KEY": keys.secret_key},
        )
    fair, skewed = polygon.json()["results"]["p"], alpaca.json()["trades"]["AAPL"]["p"]
    assert skewed == round(fair * 1.01, 2)
