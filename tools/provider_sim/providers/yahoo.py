"""Yahoo Finance chart v8 (no key): `/v8/finance/chart/{symbol}` with `interval` and either
`range` or `period1`/`period2` (epoch seconds). The quote is `meta.regularMarketPrice`;
bars are parallel arrays where a bar can be all `null` (`null_gap_rate`, deterministic per
bar); an empty window has no `timestamp` and `quote: [{}]`; an unknown symbol gets 404
"Not Found"; over a quota, 429 with the plain "Too Many Requests" yfinance looks for.
Daily bars are stamped at the session open (09:30 New York), crypto at 00:00 UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Any, ClassVar

from aiohttp import web

from market_gateway.domain import AssetClass, Bar, Symbol, Timeframe
from tools.provider_sim.market import mix
from tools.provider_sim.providers.base import ProviderBase, Route, count_symbols, json_response
from tools.provider_sim.providers.yahoo_meta import chart_meta
from tools.provider_sim.quotas import QuotaDecision
from tools.provider_sim.timefmt import NEW_YORK, epoch_s, from_epoch, local_midnight, local_time
from tools.provider_sim.urls import BASE_PATHS

INTERVALS = {
    "1m": Timeframe.ONE_MINUTE,
    "5m": Timeframe.FIVE_MINUTES,
    "15m": Timeframe.FIFTEEN_MINUTES,
    "60m": Timeframe.ONE_HOUR,
    "1h": Timeframe.ONE_HOUR,
    "1d": Timeframe.ONE_DAY,
}
RANGES = {
    "1d": 1, "5d": 7, "1mo": 31, "3mo": 92, "6mo": 183, "1y": 365, "2y": 730, "5y": 1826,
    "10y": 3652, "max": 7305,
}  # fmt: skip
NOT_FOUND = {"code": "Not Found", "description": "No data found, symbol may be delisted"}
_MAX_BARS = 20_000


def chart_error(status: int, code: str, description: str) -> web.Response:
    return json_response(
        {"chart": {"result": None, "error": {"code": code, "description": description}}}, status
    )


class Yahoo(ProviderBase):
    name = "yahoo"
    base_path: ClassVar[str] = BASE_PATHS["yahoo"]

    def routes(self) -> list[Route]:
        return [Route("GET", "/v8/finance/chart/{symbol}", self.chart)]

    def rate_limited(self, decision: QuotaDecision) -> web.Response:
        return web.Response(status=429, text="Too Many Requests\r\n", content_type="text/plain")

    def server_error(self, status: int) -> web.Response:
        return chart_error(status, "Internal Server Error", "Internal server error")

    async def chart(self, request: web.Request) -> web.Response:
        count_symbols(request, 1)
        raw, query = request.match_info["symbol"], request.query
        symbol = self.market.lookup(raw)
        if symbol is None:
            return chart_error(404, **NOT_FOUND)
        interval = query.get("interval", "1d")
        timeframe = INTERVALS.get(interval)
        if timeframe is None:
            valid = ", ".join(INTERVALS)
            text = (
                f"Invalid input - interval={interval} is not supported. Valid intervals: [{valid}]"
            )
            return chart_error(422, "Unprocessable Entity", text)
        now = self.market.now()
        range_name = query.get("range", "" if "period1" in query else "1mo")
        try:
            start, end = self._window(symbol, query, range_name, now)
        except (ValueError, KeyError):
            return chart_error(422, "Unprocessable Entity", "Invalid input - bad range or period")
        stamps, bars = await self._bars(symbol, timeframe, start, end)
        meta = await chart_meta(self.market, symbol, interval, range_name, stamps, bars)
        result: dict[str, Any] = {"meta": meta}
        if stamps:
            result["timestamp"] = stamps
        result["indicators"] = self._indicators(symbol, timeframe, stamps, bars)
        return json_response({"chart": {"result": [result], "error": None}})

    def _window(
        self, symbol: Symbol, query: Any, range_name: str, now: datetime
    ) -> tuple[datetime, datetime]:
        if range_name:
            if range_name == "ytd":
                start = datetime(now.year, 1, 1, tzinfo=now.tzinfo)
            elif range_name == "1d":
                start = local_midnight(self.market.trading_date(symbol, now), _zone(symbol))
            else:
                start = now - timedelta(days=RANGES[range_name])
            return start, now
        return from_epoch(int(query["period1"])), from_epoch(
            int(query.get("period2", epoch_s(now)))
        )

    async def _bars(
        self, symbol: Symbol, timeframe: Timeframe, start: datetime, end: datetime
    ) -> tuple[list[int], list[Bar]]:
        market = self.market
        if start >= end:
            return [], []
        if timeframe is not Timeframe.ONE_DAY:
            bars = await market.bars(symbol, timeframe, start, end, _MAX_BARS)
            return [epoch_s(bar.start_time) for bar in bars], bars
        zone = _zone(symbol)
        first = start.astimezone(zone).date() - timedelta(days=1)
        days = await market.daily(
            symbol, first, (end - timedelta(seconds=1)).astimezone(zone).date()
        )
        stamped = [(_daily_stamp(symbol, d.day), d.bar) for d in days]
        kept = [(epoch_s(t), bar) for t, bar in stamped if start <= t < end]
        return [t for t, _ in kept], [bar for _, bar in kept]

    def _indicators(
        self, symbol: Symbol, timeframe: Timeframe, stamps: list[int], bars: list[Bar]
    ) -> dict[str, Any]:
        if not stamps:
            return {"quote": [{}]}
        rate = self.config.null_gap_rate
        gaps = [rate > 0 and mix(symbol, stamp, "gap") < rate for stamp in stamps]
        columns: dict[str, list[Any]] = {
            "close": [],
            "low": [],
            "volume": [],
            "open": [],
            "high": [],
        }
        for bar, gap in zip(bars, gaps, strict=True):
            for key in ("close", "low", "open", "high"):
                columns[key].append(None if gap else getattr(bar, key))
            columns["volume"].append(None if gap else int(bar.volume))
        indicators: dict[str, Any] = {"quote": [columns]}
        if timeframe is Timeframe.ONE_DAY:
            adjclose = [None if gap else bar.close for bar, gap in zip(bars, gaps, strict=True)]
            indicators["adjclose"] = [{"adjclose": adjclose}]
        return indicators


def _zone(symbol: Symbol) -> tzinfo:
    return NEW_YORK if symbol.asset_class is AssetClass.STOCK else UTC


def _daily_stamp(symbol: Symbol, day: date) -> datetime:
    if symbol.asset_class is AssetClass.STOCK:
        return local_time(day, 9, 30, NEW_YORK)
    return local_midnight(day, _zone(symbol))
