"""The built-in synthetic market: a deterministic QuoteSource that needs no network.

Prices are a function of (seed, symbol, instant) only: day d after the anchor (UTC midnight)
is drawn from its own seed, chained to the day before, and a quote interpolates between the
day's 10-second grid points. Stocks move only during NYSE sessions; crypto moves 24/7.
Memory stays bounded: recent day paths and per-symbol ledgers live in LRU caches.
"""

from __future__ import annotations

import asyncio
import math
from collections import OrderedDict
from collections.abc import Sequence
from datetime import UTC, date, datetime

import numpy as np

from market_gateway.adapters.synthetic.aggregation import (
    BarArrays,
    day_bars,
    summarise,
    summary_bar,
)
from market_gateway.adapters.synthetic.ledger import Ledger
from market_gateway.adapters.synthetic.paths import (
    DAY_SECONDS,
    STEP_SECONDS,
    STEPS_PER_DAY,
    BoolArray,
    DayPath,
    generate_day,
    round_price,
    round_volumes,
)
from market_gateway.adapters.synthetic.profiles import SymbolProfile, profile_for
from market_gateway.domain import AssetClass, Bar, Quote, Symbol, Timeframe
from market_gateway.ports import Clock, MarketCalendar

PROVIDER_NAME = "synthetic"
_OFF_HOURS_SPREAD_FACTOR = 4.0
_DAYS_PER_YIELD = 32  # long histories give the event loop a turn this often


class SyntheticMarket:
    """QuoteSource over a seeded, regime-switching geometric Brownian motion per symbol."""

    def __init__(
        self,
        *,
        clock: Clock,
        calendar: MarketCalendar,
        seed: int,
        anchor: date,
        volatility_scale: float = 1.0,
        history_days: int = 7305,
        max_cached_days: int = 256,
        max_symbols: int = 5000,
        max_ledger_days: int = 1_000_000,
    ) -> None:
        self._clock = clock
        self._calendar = calendar
        self._seed = seed
        self._anchor = datetime(anchor.year, anchor.month, anchor.day, tzinfo=UTC).timestamp()
        self._volatility_scale = volatility_scale
        self._history_days = history_days
        self._max_cached_days = max_cached_days
        self._max_symbols = max_symbols
        self._max_ledger_days = max_ledger_days  # 56 bytes each
        self._paths: OrderedDict[tuple[str, int], DayPath] = OrderedDict()
        self._ledgers: OrderedDict[str, Ledger] = OrderedDict()
        self._masks: OrderedDict[int, BoolArray] = OrderedDict()
        self._always_open = np.ones(STEPS_PER_DAY, dtype=np.bool_)

    @property
    def name(self) -> str:
        return PROVIDER_NAME

    @property
    def volatility_scale(self) -> float:
        return self._volatility_scale

    @property
    def cached_days(self) -> int:
        """Day paths currently held in memory (bounded by max_cached_days)."""
        return len(self._paths)

    @property
    def cached_symbols(self) -> int:
        """Symbols whose chained day ledgers are held (bounded by max_ledger_days)."""
        return len(self._ledgers)

    def set_volatility_scale(self, scale: float) -> None:
        """Change the volatility; paths are redrawn, so prices jump once."""
        if scale != self._volatility_scale:
            self._volatility_scale = scale
            self._paths.clear()
            self._ledgers.clear()

    async def get_quotes(self, symbols: Sequence[Symbol]) -> dict[str, Quote]:
        now = self._clock.now()
        day, _ = self._locate(now.timestamp())
        quotes: dict[str, Quote] = {}
        for symbol in symbols:
            await self._extend_ledger(symbol, day)
            quotes[symbol.canonical] = self.quote_at(symbol, now)
        return quotes

    def quote_at(self, symbol: Symbol, instant: datetime) -> Quote:
        """The quote a caller would have seen at `instant` (any order of calls)."""
        profile = profile_for(symbol)
        asset = symbol.asset_class
        day, offset = self._locate(instant.timestamp())
        start_log, _ = self._ledger_through(symbol, day).get(day)
        path = self._path(profile, day)
        step = min(int(offset // STEP_SECONDS), STEPS_PER_DAY - 1)
        fraction = (offset - step * STEP_SECONDS) / STEP_SECONDS
        log_rel = path.log_rel[step] + fraction * (path.log_rel[step + 1] - path.log_rel[step])
        price = round_price(math.exp(start_log + log_rel), asset)
        is_open = self._calendar.is_open(instant, asset)
        last_close = self._calendar.previous_close(instant, asset)
        time = instant if is_open or last_close is None else last_close
        volume = path.cum_volume[step] + fraction * (
            path.cum_volume[step + 1] - path.cum_volume[step]
        )
        if not is_open and last_close is not None:  # the last session's full volume
            close_day, _ = self._locate(last_close.timestamp() - 1)
            volume = self._ledger_through(symbol, close_day).get(close_day)[1].volume
        half_spread = profile.spread_bps / 20_000 * (1.0 if is_open else _OFF_HOURS_SPREAD_FACTOR)
        return Quote(
            symbol=symbol.canonical,
            price=price,
            bid=round_price(price * (1 - half_spread), asset),
            ask=round_price(price * (1 + half_spread), asset),
            volume=float(round_volumes(np.array([volume]), asset)[0]),
            time=time,
            provider=PROVIDER_NAME,
        )

    async def get_bars(
        self,
        symbol: Symbol,
        timeframe: Timeframe,
        start: datetime | None,
        end: datetime,
        limit: int,
    ) -> list[Bar]:
        now = self._clock.now().timestamp()
        end_at = min(end.timestamp(), now)
        first_day = -self._history_days
        chunks: list[BarArrays] = []
        found = 0
        if start is None:
            day, _ = self._locate(end_at - 1e-6)
            while day >= first_day and found < limit:
                bars = await self._day_bars(symbol, day, timeframe)
                bars = bars.select(bars.ready <= end_at)
                chunks.insert(0, bars)
                found += len(bars)
                day -= 1
            return _to_bars(chunks)[-limit:] if limit else []
        start_at = start.timestamp()
        start_day, _ = self._locate(start_at)
        last_day, _ = self._locate(end_at - 1e-6)
        for day in range(max(start_day, first_day), last_day + 1):
            if found >= limit:
                break
            bars = await self._day_bars(symbol, day, timeframe)
            bars = bars.select(
                (bars.start >= start_at) & (bars.start < end_at) & (bars.ready <= now)
            )
            chunks.append(bars)
            found += len(bars)
        return _to_bars(chunks)[:limit]

    async def _day_bars(self, symbol: Symbol, day: int, timeframe: Timeframe) -> BarArrays:
        ledger = await self._extend_ledger(symbol, day)
        start_log, summary = ledger.get(day)
        profile = profile_for(symbol)
        day_start = self._anchor + day * DAY_SECONDS
        asset, trade_size = symbol.asset_class, profile.typical_trade_size
        if timeframe is Timeframe.ONE_DAY:
            return summary_bar(summary, day_start, start_log, asset, trade_size)
        path = self._path(profile, day)
        return day_bars(path, day_start, start_log, timeframe, asset, trade_size)

    def _locate(self, epoch_seconds: float) -> tuple[int, float]:
        """(day index, seconds into that day) of an instant."""
        elapsed = epoch_seconds - self._anchor
        day = math.floor(elapsed / DAY_SECONDS)
        return day, elapsed - day * DAY_SECONDS

    async def _extend_ledger(self, symbol: Symbol, day: int) -> Ledger:
        ledger = self._ledger(symbol)
        if ledger.knows(day):
            return ledger
        while not ledger.knows(day):
            for _ in range(_DAYS_PER_YIELD):
                if ledger.knows(day):
                    break
                self._extend_once(symbol, ledger, toward=day)
            await asyncio.sleep(0)
        self._trim_ledgers()
        return ledger

    def _ledger_through(self, symbol: Symbol, day: int) -> Ledger:
        ledger = self._ledger(symbol)
        if ledger.knows(day):
            return ledger
        while not ledger.knows(day):
            self._extend_once(symbol, ledger, toward=day)
        self._trim_ledgers()
        return ledger

    def _trim_ledgers(self) -> None:
        """Forget the least recently used symbols' ledgers beyond the day budget."""
        total = sum(ledger.days for ledger in self._ledgers.values())
        while total > self._max_ledger_days and len(self._ledgers) > 1:
            _, dropped = self._ledgers.popitem(last=False)
            total -= dropped.days

    def _extend_once(self, symbol: Symbol, ledger: Ledger, *, toward: int) -> None:
        profile = profile_for(symbol)
        if toward >= 0:
            next_day = ledger.next_forward_day
            ledger.append_forward(summarise(self._path(profile, next_day, keep=next_day == toward)))
        else:
            next_day = ledger.next_backward_day
            path = self._path(profile, next_day, keep=next_day == toward)
            ledger.append_backward(summarise(path))

    def _ledger(self, symbol: Symbol) -> Ledger:
        ledger = self._ledgers.get(symbol.canonical)
        if ledger is None:
            ledger = Ledger(math.log(profile_for(symbol).start_price))
            self._ledgers[symbol.canonical] = ledger
            if len(self._ledgers) > self._max_symbols:
                self._ledgers.popitem(last=False)
        self._ledgers.move_to_end(symbol.canonical)
        return ledger

    def _path(self, profile: SymbolProfile, day: int, *, keep: bool = True) -> DayPath:
        key = (profile.symbol.canonical, day)
        path = self._paths.get(key)
        if path is not None:
            self._paths.move_to_end(key)
            return path
        mask = self._open_steps(profile.symbol.asset_class, day)
        path = generate_day(profile, self._seed, day, mask, self._volatility_scale)
        if keep:
            self._paths[key] = path
            if len(self._paths) > self._max_cached_days:
                self._paths.popitem(last=False)
        return path

    def _open_steps(self, asset: AssetClass, day: int) -> BoolArray:
        if asset is AssetClass.CRYPTO:
            return self._always_open
        mask = self._masks.get(day)
        if mask is None:
            day_start = self._anchor + day * DAY_SECONDS
            mask = np.zeros(STEPS_PER_DAY, dtype=np.bool_)
            begin, end = (
                datetime.fromtimestamp(t, tz=UTC) for t in (day_start, day_start + DAY_SECONDS)
            )
            for session in self._calendar.sessions(begin, end):
                first = math.ceil((session.open.timestamp() - day_start) / STEP_SECONDS)
                last = math.floor((session.close.timestamp() - day_start) / STEP_SECONDS)
                mask[max(first, 0) : min(last, STEPS_PER_DAY)] = True
            self._masks[day] = mask
            if len(self._masks) > 1024:
                self._masks.popitem(last=False)
        return mask


def _to_bars(chunks: list[BarArrays]) -> list[Bar]:
    bars: list[Bar] = []
    for chunk in chunks:
        rows = zip(
            chunk.start.tolist(), chunk.open.tolist(), chunk.high.tolist(), chunk.low.tolist(),
            chunk.close.tolist(), chunk.volume.tolist(), chunk.vwap.tolist(), chunk.trades.tolist(),
            strict=True,
        )  # fmt: skip
        for start, open_, high, low, close, volume, vwap, trades in rows:
            when = datetime.fromtimestamp(start, tz=UTC)
            bars.append(Bar(when, open_, high, low, close, volume, vwap, int(trades)))
    return bars
