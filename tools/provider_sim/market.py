"""The synthetic market seen the way the providers report it.

Prices come from the gateway's own deterministic `SyntheticMarket` (same seed and anchor
give the same prices), so the simulator and the gateway's offline mode agree. This view adds
what wire formats need and the synthetic market does not model (trade and quote sizes, trade
ids, sequence numbers, today's running day bar), derived from stable hashes so they too are
deterministic. Daily bars are keyed by trading date (New York for stocks, UTC for crypto);
each provider stamps them its own way. `skew_bps` shifts every price (a provider that
disagrees with the others).
"""

from __future__ import annotations

import dataclasses
import math
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from market_gateway.adapters.synthetic.market import SyntheticMarket
from market_gateway.adapters.synthetic.paths import round_price
from market_gateway.domain import AssetClass, Bar, DomainError, Symbol, Timeframe, parse_symbol
from market_gateway.ports import Clock, MarketCalendar
from tools.provider_sim.memo import Memo
from tools.provider_sim.timefmt import epoch_ms, new_york_date


@dataclass(frozen=True, slots=True)
class Tick:
    """The latest trade and quote of one symbol."""

    symbol: Symbol
    price: float
    bid: float
    ask: float
    trade_size: float
    bid_size: float
    ask_size: float
    day_volume: float
    time: datetime  # when the last trade printed
    trade_id: int
    sequence: int
    is_open: bool


@dataclass(frozen=True, slots=True)
class DailyBar:
    day: date  # the trading date (New York for stocks, UTC for crypto)
    bar: Bar


def mix(*parts: object) -> float:
    """A stable number in [0, 1) from any parts (same in every process)."""
    return zlib.crc32("|".join(map(str, parts)).encode()) / 2**32


class MarketView:
    def __init__(
        self,
        market: SyntheticMarket,
        calendar: MarketCalendar,
        clock: Clock,
        *,
        unknown: Iterable[str] = (),
        universe: Iterable[str] = (),
        skew_bps: float = 0.0,
    ) -> None:
        self._market = market
        self._calendar = calendar
        self._clock = clock
        self._unknown = frozenset(s.upper() for s in unknown)
        self._universe = tuple(universe)
        self._factor = 1.0 + skew_bps / 10_000.0
        self._memo = Memo()

    def with_skew(self, skew_bps: float) -> MarketView:
        view = MarketView(self._market, self._calendar, self._clock, skew_bps=skew_bps)
        view._unknown, view._universe, view._memo = self._unknown, self._universe, self._memo
        return view

    def _minute_key(self, kind: str, symbol: Symbol) -> tuple[object, ...]:
        return (kind, symbol.canonical, self._factor, int(self.now().timestamp() // 60))

    def now(self) -> datetime:
        return self._clock.now()

    def lookup(self, raw: str) -> Symbol | None:
        """The symbol behind any provider spelling; None when malformed or unknown."""
        if raw.strip().upper() in self._unknown:
            return None
        try:
            symbol = parse_symbol(raw)
        except DomainError:
            return None
        return None if symbol.canonical in self._unknown else symbol

    def universe(self, asset_class: AssetClass) -> list[Symbol]:
        symbols = (self.lookup(raw) for raw in self._universe)
        return [s for s in symbols if s is not None and s.asset_class is asset_class]

    def is_open(self, symbol: Symbol, instant: datetime | None = None) -> bool:
        return self._calendar.is_open(instant or self.now(), symbol.asset_class)

    async def tick(self, symbol: Symbol) -> Tick:
        now = self.now()
        quote = (await self._market.get_quotes([symbol]))[symbol.canonical]
        step = int(quote.time.timestamp() // 10)
        lot = 100.0 if symbol.asset_class is AssetClass.STOCK else 0.0
        return Tick(
            symbol=symbol,
            price=self._scale(quote.price, symbol),
            bid=self._scale(quote.bid, symbol),
            ask=self._scale(quote.ask, symbol),
            trade_size=self._size(symbol, step, "trade"),
            bid_size=lot * (1 + int(9 * mix(symbol, step, "bid"))) or self._size(symbol, step, "b"),
            ask_size=lot * (1 + int(9 * mix(symbol, step, "ask"))) or self._size(symbol, step, "a"),
            day_volume=quote.volume,
            time=quote.time,
            trade_id=int(mix(symbol, step, "id") * 1e9) + step,
            sequence=epoch_ms(quote.time) // 10 % 100_000_000,
            is_open=self._calendar.is_open(now, symbol.asset_class),
        )

    async def bars(
        self, symbol: Symbol, timeframe: Timeframe, start: datetime, end: datetime, limit: int
    ) -> list[Bar]:
        """Completed bars starting in [start, end), oldest first, at most `limit`."""
        bars = await self._market.get_bars(symbol, timeframe, start, end, limit)
        return [self._scale_bar(bar, symbol) for bar in bars]

    async def last_bars(
        self, symbol: Symbol, timeframe: Timeframe, end: datetime, limit: int
    ) -> list[Bar]:
        """The `limit` latest completed bars that start before `end`, oldest first."""
        bars = await self._market.get_bars(symbol, timeframe, None, end, limit)
        return [self._scale_bar(bar, symbol) for bar in bars]

    async def bars_desc(
        self, symbol: Symbol, timeframe: Timeframe, start: datetime, end: datetime, limit: int
    ) -> list[Bar]:
        """Completed bars starting in [start, end), newest first, at most `limit`."""
        # last_bars keeps bars that ended by its end; one starting before `end` ends at most
        # one width later
        most = math.ceil((end - start) / timeframe.width) + 2
        bars = await self.last_bars(symbol, timeframe, end + timeframe.width, min(limit + 1, most))
        return [bar for bar in reversed(bars) if start <= bar.start_time < end][:limit]

    async def daily(self, symbol: Symbol, first: date, last: date) -> list[DailyBar]:
        """Daily bars of trading dates first..last, with today's bar so far when included."""
        start = datetime.combine(first, time(), tzinfo=UTC)
        end = datetime.combine(last + timedelta(days=1), time(), tzinfo=UTC)
        days = (last - first).days + 1
        bars = await self.bars(symbol, Timeframe.ONE_DAY, start, end, max(days, 1))
        found = [DailyBar(bar.start_time.date(), bar) for bar in bars]
        today = await self.today(symbol)
        if (
            today is not None
            and first <= today.day <= last
            and today.day not in {d.day for d in found}
        ):
            found.append(today)
        return found

    async def daily_page(
        self, symbol: Symbol, first: date, last: date, wanted: int, *, desc: bool = False
    ) -> list[DailyBar]:
        """Up to `wanted` daily bars of first..last, oldest (or newest) first, fetched in
        chunks so that a long range with a small limit stays cheap."""
        chunk = timedelta(days=min(400, wanted * 2 + 10))
        found: list[DailyBar] = []
        while first <= last and len(found) < wanted:
            if desc:
                lower = max(first, last - chunk)
                found += reversed(await self.daily(symbol, lower, last))
                last = lower - timedelta(days=1)
            else:
                upper = min(last, first + chunk)
                found += await self.daily(symbol, first, upper)
                first = upper + timedelta(days=1)
        return found[:wanted]

    async def today(self, symbol: Symbol) -> DailyBar | None:
        """The current trading date's bar so far; None before its first trade."""
        return await self._memo.get(self._minute_key("today", symbol), lambda: self._today(symbol))

    async def _today(self, symbol: Symbol) -> DailyBar | None:
        now = self.now()
        day = self.trading_date(symbol, now)
        start = datetime.combine(day, time(), tzinfo=UTC)
        minutes = await self.bars(symbol, Timeframe.ONE_MINUTE, start, now, 1440)
        if not minutes:
            return None
        return DailyBar(day, aggregate(minutes, start))

    async def previous_day(self, symbol: Symbol) -> DailyBar | None:
        today = self.trading_date(symbol, self.now())

        async def compute() -> DailyBar | None:
            found = await self.daily(symbol, today - timedelta(days=10), today - timedelta(days=1))
            return found[-1] if found else None

        return await self._memo.get(("prev", symbol.canonical, self._factor, today), compute)

    async def last_minute(self, symbol: Symbol) -> Bar | None:
        async def compute() -> Bar | None:
            found = await self.last_bars(symbol, Timeframe.ONE_MINUTE, self.now(), 1)
            return found[-1] if found else None

        return await self._memo.get(self._minute_key("minute", symbol), compute)

    def trading_date(self, symbol: Symbol, instant: datetime) -> date:
        if symbol.asset_class is AssetClass.CRYPTO:
            return instant.astimezone(UTC).date()
        return new_york_date(instant)

    def _scale(self, price: float, symbol: Symbol) -> float:
        return (
            price if self._factor == 1.0 else round_price(price * self._factor, symbol.asset_class)
        )

    def _scale_bar(self, bar: Bar, symbol: Symbol) -> Bar:
        if self._factor == 1.0:
            return bar
        s = self._scale
        return dataclasses.replace(
            bar, open=s(bar.open, symbol), high=s(bar.high, symbol), low=s(bar.low, symbol),
            close=s(bar.close, symbol), vwap=s(bar.vwap, symbol),
        )  # fmt: skip

    def _size(self, symbol: Symbol, step: int, salt: str) -> float:
        if symbol.asset_class is AssetClass.STOCK:
            return float(1 + int(300 * mix(symbol, step, salt) ** 3))
        return round(0.0001 + 2.0 * mix(symbol, step, salt) ** 3, 6)


def aggregate(bars: list[Bar], start: datetime) -> Bar:
    """One bar spanning `bars` (volume-weighted vwap), stamped `start`."""
    volume = sum(bar.volume for bar in bars)
    vwap = sum(bar.vwap * bar.volume for bar in bars) / volume if volume else bars[-1].close
    return Bar(
        start_time=start,
        open=bars[0].open,
        high=max(bar.high for bar in bars),
        low=min(bar.low for bar in bars),
        close=bars[-1].close,
        volume=volume,
        vwap=round(vwap, 4),
        trade_count=sum(bar.trade_count for bar in bars),
    )
