"""Polygon / Massive WebSocket feed: `wss://<host>/stocks` and `/crypto`, one connection per
cluster (the provider allows one each), as a `QuoteStream`.

Protocol: server greets `[{"ev":"status","status":"connected"}]`; client sends
`{"action":"auth","params":KEY}` -> `auth_success` | `auth_failed`; client subscribes
`{"action":"subscribe","params":"T.AAPL,Q.AAPL,AM.AAPL"}` (crypto `XT./XQ./XA.BTC-USD`) ->
one `success` status per channel. Data frames are arrays of events: T/XT trades, Q/XQ best
bid/ask, AM/XA minute aggregates (AM's `av` is the day's volume so far). Times are epoch ms.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from market_gateway.adapters.common.feed import Connector, ReconnectingFeed, default_connector
from market_gateway.adapters.common.streams import (
    Backoff,
    Control,
    ControlKind,
    FeedMessage,
    Tick,
    merged,
    rest_backfill,
)
from market_gateway.adapters.polygon.errors import ws_status_error
from market_gateway.adapters.polygon.parsing import WIRE, bar_from, ws_ticker_for
from market_gateway.adapters.polygon.schemas import PROVIDER
from market_gateway.domain import (
    AssetClass,
    FeedEvent,
    InvalidSymbol,
    Symbol,
    Timeframe,
    UpdateKind,
    parse_symbol,
)
from market_gateway.ports import Clock, QuoteSource

_CHANNELS = {AssetClass.STOCK: ("T", "Q", "AM"), AssetClass.CRYPTO: ("XT", "XQ", "XA")}
_MARKETS = {AssetClass.STOCK: "stocks", AssetClass.CRYPTO: "crypto"}
_CONTROL: dict[str, ControlKind] = {
    "connected": "connected",
    "auth_success": "authenticated",
    "success": "subscribed",
}


class PolygonProtocol:
    def __init__(self, *, ws_url: str, api_key: str, asset_class: AssetClass) -> None:
        self._url = f"{ws_url.rstrip('/')}/{_MARKETS[asset_class]}"
        self._api_key = api_key
        self._asset_class = asset_class

    @property
    def provider(self) -> str:
        return PROVIDER

    def url(self) -> str:
        return self._url

    def auth_message(self) -> str:
        return json.dumps({"action": "auth", "params": self._api_key})

    def subscribe_messages(self, symbols: Sequence[Symbol]) -> list[str]:
        channels = _CHANNELS[self._asset_class]
        params = ",".join(f"{c}.{ws_ticker_for(s)}" for s in symbols for c in channels)
        return [json.dumps({"action": "subscribe", "params": params})]

    def decode(self, frame: str | bytes) -> list[FeedMessage]:
        try:
            events = json.loads(frame)
        except ValueError:
            raise WIRE.bad("stream frame is not JSON") from None
        if isinstance(events, Mapping):  # be lenient: a lone event
            events = [events]
        return [
            m
            for m in (decode_event(WIRE.obj(e, "event")) for e in WIRE.items(events, "frame"))
            if m
        ]


def decode_event(event: Mapping[str, Any]) -> FeedMessage | None:
    """One event of a frame; None for events this feed does not use."""
    kind = event.get("ev")
    if kind == "status":
        status, message = str(event.get("status", "")), str(event.get("message", ""))
        if status == "success" and message.lower().startswith("connected"):
            return Control("connected")  # the OpenAPI spec's spelling of the greeting
        if status in _CONTROL:
            return Control(_CONTROL[status], message)
        return ws_status_error(status, message)
    name = _symbol(event)
    if name is None:
        return None
    if kind in ("T", "XT"):
        return Tick(
            name,
            UpdateKind.TRADE,
            WIRE.epoch(event, "t", "trade"),
            price=WIRE.num(event, "p", "trade"),
            size=WIRE.opt_num(event, "s", "trade") or 0.0,
        )
    if kind in ("Q", "XQ"):
        return Tick(
            name,
            UpdateKind.QUOTE,
            WIRE.epoch(event, "t", "quote"),
            bid=WIRE.num(event, "bp", "quote"),
            ask=WIRE.num(event, "ap", "quote"),
        )
    if kind in ("AM", "A", "XA"):
        row = dict(event) | {"t": event.get("s")}  # bar start; "z" is average trade size
        bar = bar_from(row, Timeframe.ONE_MINUTE, "aggregate")
        return Tick(
            name,
            UpdateKind.BAR,
            WIRE.epoch(event, "e", "aggregate"),
            price=bar.close,
            day_volume=WIRE.opt_num(event, "av", "aggregate"),
            bar=bar,
        )
    return None


def _symbol(event: Mapping[str, Any]) -> str | None:
    raw = event.get("sym", event.get("pair"))
    if not isinstance(raw, str):
        return None
    try:
        return parse_symbol(raw).canonical
    except InvalidSymbol:
        return None


class PolygonStream:
    """`QuoteStream` over Polygon's stocks and crypto clusters (merged when both are asked)."""

    def __init__(
        self,
        *,
        ws_url: str,
        api_key: str,
        clock: Clock,
        rest: QuoteSource | None = None,
        backoff: Backoff | None = None,
        connect: Connector = default_connector,
        handshake_timeout: float = 10.0,
        max_attempts: int | None = None,
    ) -> None:
        self._ws_url, self._api_key, self._clock = ws_url, api_key, clock
        self._backfill = rest_backfill(rest) if rest is not None else None
        self._backoff, self._connect = backoff, connect
        self._handshake_timeout, self._max_attempts = handshake_timeout, max_attempts

    @property
    def name(self) -> str:
        return PROVIDER

    @property
    def max_symbols(self) -> int | None:
        """No server-side cap on tickers per connection (provider-formats.md)."""
        return None

    def events(self, symbols: Sequence[Symbol]) -> AsyncIterator[FeedEvent]:
        streams = []
        for asset in (AssetClass.STOCK, AssetClass.CRYPTO):
            group = [s for s in symbols if s.asset_class is asset]
            if group:
                feed = self._feed(asset)
                streams.append(feed.events(group))
        return streams[0] if len(streams) == 1 else merged(streams)  # none: ends at once

    def _feed(self, asset: AssetClass) -> ReconnectingFeed:
        protocol = PolygonProtocol(ws_url=self._ws_url, api_key=self._api_key, asset_class=asset)
        return ReconnectingFeed(
            protocol,
            clock=self._clock,
            backfill=self._backfill,
            backoff=self._backoff,
            connect=self._connect,
            handshake_timeout=self._handshake_timeout,
            max_attempts=self._max_attempts,
        )
