"""Polygon/Massive JSON shapes built from the synthetic market (fixtures polygon/rest-*).

Stocks report times in nanoseconds (trades, quotes, `updated`) and bars in milliseconds;
crypto snapshots use milliseconds throughout. Daily bars are stamped 00:00 New York; the
previous-close bar of a stock is stamped 16:00 New York (as recorded). Quote sizes are round
lots (x100 shares).
"""

from __future__ import annotations

from typing import Any

from market_gateway.domain import AssetClass, Bar, Symbol
from tools.provider_sim.market import DailyBar, Tick, mix
from tools.provider_sim.timefmt import NEW_YORK, epoch_ms, epoch_ns, local_midnight, local_time

_STOCK_CONDITIONS = ([14, 41], [12, 37], [37], None)


def ticker_of(symbol: Symbol) -> str:
    """AAPL, BRK.B, or X:BTCUSD for crypto."""
    if symbol.asset_class is AssetClass.CRYPTO:
        return "X:" + symbol.canonical.replace("-", "")
    return symbol.canonical


def number(value: float) -> float | int:
    """Whole numbers as JSON integers (as the provider writes volumes)."""
    return int(value) if float(value).is_integer() else value


def bar_json(bar: Bar, stamp_ms: int | None = None) -> dict[str, Any]:
    return {
        "v": number(bar.volume),
        "vw": bar.vwap,
        "o": bar.open,
        "c": bar.close,
        "h": bar.high,
        "l": bar.low,
        "t": epoch_ms(bar.start_time) if stamp_ms is None else stamp_ms,
        "n": bar.trade_count,
    }


def daily_stamp_ms(daily: DailyBar) -> int:
    return epoch_ms(local_midnight(daily.day, NEW_YORK))


def prev_close_json(symbol: Symbol, daily: DailyBar) -> dict[str, Any]:
    if symbol.asset_class is AssetClass.STOCK:
        stamp = epoch_ms(local_time(daily.day, 16, 0, NEW_YORK))
    else:
        stamp = daily_stamp_ms(daily)
    return {"T": ticker_of(symbol), **bar_json(daily.bar, stamp)}


def _day_json(bar: Bar | None) -> dict[str, Any]:
    if bar is None:
        return {"o": 0, "h": 0, "l": 0, "c": 0, "v": 0, "vw": 0}
    return {
        "o": bar.open, "h": bar.high, "l": bar.low, "c": bar.close,
        "v": number(bar.volume), "vw": bar.vwap,
    }  # fmt: skip


def trade_conditions(tick: Tick) -> list[int] | None:
    return _STOCK_CONDITIONS[int(mix(tick.symbol, tick.trade_id, "c") * len(_STOCK_CONDITIONS))]


def snapshot_json(
    tick: Tick, today: DailyBar | None, minute: Bar | None, prev: DailyBar | None
) -> dict[str, Any]:
    """One entry of `tickers` in a snapshot (stocks in ns, crypto in ms)."""
    stock = tick.symbol.asset_class is AssetClass.STOCK
    stamp = epoch_ns(tick.time) if stock else epoch_ms(tick.time)
    previous = prev.bar.close if prev is not None else tick.price
    change = round(tick.price - previous, 4)
    entry: dict[str, Any] = {
        "day": _day_json(today.bar if today else None),
        "lastTrade": {
            "c": trade_conditions(tick) if stock else [1 + tick.trade_id % 2],
            "i": str(tick.trade_id),
            "p": tick.price,
            "s": number(tick.trade_size),
            "t": stamp,
            "x": 4 if stock else 1,
        },
        "min": _minute_json(minute, tick),
        "prevDay": _day_json(prev.bar if prev else None),
        "ticker": ticker_of(tick.symbol),
        "todaysChange": change,
        "todaysChangePerc": round(100.0 * change / previous, 4) if previous else 0.0,
        "updated": stamp,
    }
    if stock:
        entry["lastQuote"] = {
            "P": tick.ask,
            "S": int(tick.ask_size // 100),
            "p": tick.bid,
            "s": int(tick.bid_size // 100),
            "t": stamp,
        }
    return entry


def _minute_json(minute: Bar | None, tick: Tick) -> dict[str, Any]:
    if minute is None:
        return {"av": 0, "o": 0, "h": 0, "l": 0, "c": 0, "v": 0, "vw": 0, "t": 0, "n": 0}
    return {"av": number(tick.day_volume), **bar_json(minute)}


def last_trade_json(tick: Tick) -> dict[str, Any]:
    stamp = epoch_ns(tick.time)
    return {
        "T": tick.symbol.canonical,
        "c": trade_conditions(tick) or [],
        "i": str(tick.trade_id),
        "p": tick.price,
        "s": number(tick.trade_size),
        "x": 4,
        "r": 202,
        "z": 1 + tick.trade_id % 3,
        "t": stamp,
        "y": stamp - 2_000_000,
        "f": stamp - 30_000,
        "q": tick.sequence,
    }


def last_quote_json(tick: Tick) -> dict[str, Any]:
    stamp = epoch_ns(tick.time)
    return {
        "p": tick.bid,
        "s": int(tick.bid_size // 100),
        "x": 19,
        "P": tick.ask,
        "S": int(tick.ask_size // 100),
        "X": 11,
        "z": 1 + tick.trade_id % 3,
        "T": tick.symbol.canonical,
        "t": stamp,
        "y": stamp - 200_000,
        "q": tick.sequence,
    }
