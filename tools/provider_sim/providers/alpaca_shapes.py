"""Alpaca market-data v2 JSON shapes (fixtures alpaca/rest-*): RFC-3339 `t`, stock trades
and quotes with exchange letters and tape, crypto trades with taker side `tks`. Daily bars
are stamped 00:00 New York (stocks) or 00:00 Chicago (crypto), as recorded.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from market_gateway.domain import AssetClass, Bar, Symbol, Timeframe
from tools.provider_sim.market import DailyBar, Tick, mix
from tools.provider_sim.timefmt import CHICAGO, NEW_YORK, local_midnight, parse_rfc3339, rfc3339

TIMEFRAMES = {
    "1Min": Timeframe.ONE_MINUTE, "1T": Timeframe.ONE_MINUTE,
    "5Min": Timeframe.FIVE_MINUTES, "5T": Timeframe.FIVE_MINUTES,
    "15Min": Timeframe.FIFTEEN_MINUTES, "15T": Timeframe.FIFTEEN_MINUTES,
    "1Hour": Timeframe.ONE_HOUR, "60Min": Timeframe.ONE_HOUR, "1H": Timeframe.ONE_HOUR,
    "1Day": Timeframe.ONE_DAY, "1D": Timeframe.ONE_DAY,
}  # fmt: skip
_CODES = {Timeframe.ONE_DAY: "D", Timeframe.ONE_HOUR: "H"}
_EXCHANGES = "DKPQVNZ"


def symbol_text(symbol: Symbol) -> str:
    """AAPL, or BTC/USD for crypto."""
    return symbol.canonical.replace("-", "/")


def bar_json(bar: Bar, stamp: datetime | None = None) -> dict[str, Any]:
    return {
        "t": rfc3339(stamp or bar.start_time),
        "o": bar.open,
        "h": bar.high,
        "l": bar.low,
        "c": bar.close,
        "v": int(bar.volume) if bar.volume.is_integer() else bar.volume,
        "n": bar.trade_count,
        "vw": bar.vwap,
    }


def daily_stamp(symbol: Symbol, daily: DailyBar) -> datetime:
    zone = CHICAGO if symbol.asset_class is AssetClass.CRYPTO else NEW_YORK
    return local_midnight(daily.day, zone)


def daily_json(symbol: Symbol, daily: DailyBar | None) -> dict[str, Any] | None:
    return None if daily is None else bar_json(daily.bar, daily_stamp(symbol, daily))


def trade_json(tick: Tick) -> dict[str, Any]:
    if tick.symbol.asset_class is AssetClass.CRYPTO:
        side = "B" if mix(tick.symbol, tick.trade_id, "side") < 0.5 else "S"
        return {
            "t": rfc3339(tick.time), "p": tick.price, "s": tick.trade_size, "tks": side,
            "i": tick.trade_id,
        }  # fmt: skip
    return {
        "t": rfc3339(tick.time),
        "x": _EXCHANGES[tick.trade_id % len(_EXCHANGES)],
        "p": tick.price,
        "s": int(tick.trade_size),
        "c": ["@"] if tick.trade_id % 3 else ["@", "I"],
        "i": tick.trade_id,
        "z": "C",
    }


def quote_json(tick: Tick) -> dict[str, Any]:
    if tick.symbol.asset_class is AssetClass.CRYPTO:
        return {
            "t": rfc3339(tick.time), "bp": tick.bid, "bs": tick.bid_size, "ap": tick.ask,
            "as": tick.ask_size,
        }  # fmt: skip
    return {
        "t": rfc3339(tick.time),
        "ax": _EXCHANGES[(tick.trade_id + 1) % len(_EXCHANGES)],
        "ap": tick.ask,
        "as": int(tick.ask_size // 100),
        "bx": _EXCHANGES[(tick.trade_id + 2) % len(_EXCHANGES)],
        "bp": tick.bid,
        "bs": int(tick.bid_size // 100),
        "c": ["R"],
        "z": "C",
    }


def page_token(symbol: Symbol, timeframe: Timeframe, stamp: datetime) -> str:
    """Like the real ones: base64 of `SYMBOL|D|2022-06-09T04:00:00.000000000Z`."""
    code = _CODES.get(timeframe, "M")
    text = f"{symbol_text(symbol)}|{code}|{stamp.strftime('%Y-%m-%dT%H:%M:%S')}.000000000Z"
    return base64.b64encode(text.encode()).decode()


def read_page_token(token: str) -> tuple[str, datetime]:
    """(symbol text, bar stamp) of a token; ValueError when it is not one of ours."""
    parts = base64.b64decode(token, validate=True).decode().split("|")
    if len(parts) != 3:
        raise ValueError("not a page token")
    return parts[0], parse_rfc3339(parts[2])
