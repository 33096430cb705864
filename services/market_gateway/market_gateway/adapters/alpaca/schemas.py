"""Alpaca wire facts: paths per asset class, timeframes, WebSocket error codes.
Shapes are in provider-formats.md §2."""

from __future__ import annotations

from market_gateway.domain import AssetClass, Timeframe

PROVIDER = "alpaca"
DEFAULT_FEED = "iex"
MAX_PAGE_LIMIT = 10_000

TIMEFRAMES: dict[Timeframe, str] = {
    Timeframe.ONE_MINUTE: "1Min",
    Timeframe.FIVE_MINUTES: "5Min",
    Timeframe.FIFTEEN_MINUTES: "15Min",
    Timeframe.ONE_HOUR: "1Hour",
    Timeframe.ONE_DAY: "1Day",
}

_PREFIX = {AssetClass.STOCK: "/v2/stocks", AssetClass.CRYPTO: "/v1beta3/crypto/us"}


def history_path(asset_class: AssetClass, kind: str) -> str:
    """Multi-symbol history: kind in bars | trades | quotes."""
    return f"{_PREFIX[asset_class]}/{kind}"


def latest_path(asset_class: AssetClass, kind: str) -> str:
    """Latest bar/trade/quote per symbol (stocks: /v2/stocks/trades/latest, crypto:
    /v1beta3/crypto/us/latest/trades)."""
    if asset_class is AssetClass.CRYPTO:
        return f"{_PREFIX[asset_class]}/latest/{kind}"
    return f"{_PREFIX[asset_class]}/{kind}/latest"


def snapshots_path(asset_class: AssetClass) -> str:
    return f"{_PREFIX[asset_class]}/snapshots"


def stream_path(asset_class: AssetClass, feed: str) -> str:
    """WebSocket path: /v2/iex | /v2/sip | /v2/test for stocks, /v1beta3/crypto/us for crypto."""
    return "/v1beta3/crypto/us" if asset_class is AssetClass.CRYPTO else f"/v2/{feed}"


# Documented stream error codes (realtime.md "Errors").
WS_AUTH_FAILED = 402
WS_ALREADY_AUTHENTICATED = 403
WS_SYMBOL_LIMIT = 405
WS_CONNECTION_LIMIT = 406
WS_INSUFFICIENT_SUBSCRIPTION = 409
