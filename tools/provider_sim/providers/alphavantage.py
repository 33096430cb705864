"""Alpha Vantage: one endpoint, `/query?function=..&apikey=..`, one symbol per call.

Every answer is HTTP 200, including the errors (`{"Error Message": ...}`) and the throttle
bodies: over the per-second burst -> `Information` "(1 request per second)", over a
per-minute window -> the older `Note` ("N calls per minute and M calls per day"), over the
daily window -> `Information` "(25 requests per day)". All numbers are strings.
Functions: GLOBAL_QUOTE, TIME_SERIES_INTRADAY, TIME_SERIES_DAILY, RSI, MACD,
CRYPTO_INTRADAY, DIGITAL_CURRENCY_DAILY, CURRENCY_EXCHANGE_RATE.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from aiohttp import web

from market_gateway.domain import AssetClass
from tools.provider_sim.providers import alphavantage_series as series
from tools.provider_sim.providers.base import ProviderBase, Route, count_symbols, json_response
from tools.provider_sim.quotas import QuotaDecision
from tools.provider_sim.timefmt import epoch_s, from_epoch
from tools.provider_sim.urls import BASE_PATHS

_DOCS = "https://www.alphavantage.co/documentation/"
_PREMIUM = "https://www.alphavantage.co/premium/"
BAD_KEY = (
    "the parameter apikey is invalid or missing. Please claim your free API key on "
    "(https://www.alphavantage.co/support/#api-key). It should take less than 20 seconds."
)
Function = Callable[["AlphaVantage", web.Request], Awaitable[dict[str, Any]]]


class AlphaVantage(ProviderBase):
    name = "alphavantage"
    base_path: ClassVar[str] = BASE_PATHS["alphavantage"]

    def routes(self) -> list[Route]:
        return [Route("GET", "/query", self.query)]

    def endpoint(self, request: web.Request, route: Route) -> str:
        return "query:" + request.query.get("function", "").upper()

    def authenticate(self, request: web.Request) -> web.Response | None:
        if request.query.get("apikey") == self.config.api_key:
            return None
        return json_response({"Error Message": BAD_KEY})

    def rate_limited(self, decision: QuotaDecision) -> web.Response:
        window = decision.window
        seconds = window.seconds if window is not None else 86_400
        if seconds <= 1:
            text = (
                "Thank you for using Alpha Vantage! Please consider spreading out your free API "
                f"requests more sparingly ({decision.limit} request per second). You may subscribe "
                f"to any of the premium plans at {_PREMIUM} to instantly remove all rate limits."
            )
            return json_response({"Information": text})
        if seconds <= 3600:
            per_day = max((w.limit for w in self.config.quotas if w.seconds >= 86_400), default=500)
            text = (
                "Thank you for using Alpha Vantage! Our standard API call frequency is "
                f"{decision.limit} calls per minute and {per_day} calls per day. Please visit "
                f"{_PREMIUM} if you would like to target a higher API call frequency."
            )
            return json_response({"Note": text})
        text = (
            "Thank you for using Alpha Vantage! Please consider spreading out your free API "
            f"requests more sparingly. You may subscribe to any of the premium plans at {_PREMIUM} "
            f"to lift the free key rate limit ({decision.limit} requests per day) and instantly "
            "unlock all premium endpoints"
        )
        return json_response({"Information": text})

    def server_error(self, status: int) -> web.Response:
        return web.Response(status=status, text="Internal Server Error", content_type="text/plain")

    async def query(self, request: web.Request) -> web.Response:
        function = request.query.get("function", "").upper()
        count_symbols(request, 1)
        handler = _FUNCTIONS.get(function)
        if handler is None:
            return json_response(
                {"Error Message": f"This API function ({function}) does not exist."}
            )
        try:
            return json_response(await handler(self, request))
        except series.InvalidCall:
            return json_response({"Error Message": invalid_call(function)})


def invalid_call(function: str) -> str:
    return f"Invalid API call. Please retry or visit the documentation ({_DOCS}) for {function}."


async def global_quote(provider: AlphaVantage, request: web.Request) -> dict[str, Any]:
    symbol = provider.market.lookup(request.query.get("symbol", ""))
    if symbol is None or symbol.asset_class is not AssetClass.STOCK:
        return {"Global Quote": {}}
    market = provider.market
    tick, today, prev = (
        await market.tick(symbol),
        await market.today(symbol),
        await market.previous_day(symbol),
    )
    day = today or prev
    previous = prev.bar.close if prev is not None else tick.price
    change = tick.price - previous
    bar = day.bar if day is not None else None
    return {
        "Global Quote": {
            "01. symbol": symbol.canonical,
            "02. open": series.fmt(bar.open if bar else tick.price),
            "03. high": series.fmt(bar.high if bar else tick.price),
            "04. low": series.fmt(bar.low if bar else tick.price),
            "05. price": series.fmt(tick.price),
            "06. volume": str(int(bar.volume if bar else 0)),
            "07. latest trading day": (day.day if day else tick.time.date()).isoformat(),
            "08. previous close": series.fmt(previous),
            "09. change": series.fmt(change),
            "10. change percent": f"{100 * change / previous if previous else 0:.4f}%",
        }
    }


async def exchange_rate(provider: AlphaVantage, request: web.Request) -> dict[str, Any]:
    base = request.query.get("from_currency", "").upper()
    quote = request.query.get("to_currency", "").upper()
    symbol = provider.market.lookup(f"{base}-{quote}")
    if symbol is None or symbol.asset_class is not AssetClass.CRYPTO:
        raise series.InvalidCall
    tick = await provider.market.tick(symbol)
    return {
        "Realtime Currency Exchange Rate": {
            "1. From_Currency Code": base,
            "2. From_Currency Name": series.currency_name(base),
            "3. To_Currency Code": quote,
            "4. To_Currency Name": series.currency_name(quote),
            "5. Exchange Rate": f"{tick.price:.8f}",
            "6. Last Refreshed": from_epoch(epoch_s(tick.time)).strftime("%Y-%m-%d %H:%M:%S"),
            "7. Time Zone": "UTC",
            "8. Bid Price": f"{tick.bid:.8f}",
            "9. Ask Price": f"{tick.ask:.8f}",
        }
    }


_FUNCTIONS: dict[str, Function] = {
    "GLOBAL_QUOTE": global_quote,
    "CURRENCY_EXCHANGE_RATE": exchange_rate,
    "TIME_SERIES_INTRADAY": series.intraday,
    "TIME_SERIES_DAILY": series.daily,
    "RSI": series.rsi_series,
    "MACD": series.macd_series,
    "CRYPTO_INTRADAY": series.crypto_intraday,
    "DIGITAL_CURRENCY_DAILY": series.crypto_daily,
}
