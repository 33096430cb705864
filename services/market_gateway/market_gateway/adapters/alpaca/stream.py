"""Alpaca WebSocket feed: `wss://<host>/v2/{iex|sip}` for stocks, `/v1beta3/crypto/us` for
crypto (one connection each), as a `QuoteStream`.

Protocol: server greets `[{"T":"success","msg":"connected"}]`; client sends
`{"action":"auth","key":…,"secret":…}` -> `[{"T":"success","msg":"authenticated"}]` or an
error frame `{"T":"error","code":402,…}`; client subscribes `{"action":"subscribe",
"trades":[…],"quotes":[…],"dailyBars":[…]}` -> `[{"T":"subscription",…}]` (the full list).
Data frames are arrays: `t` trades, `q` quotes, `b` minute bars, `d` daily bars (their
volume is the day's), `s` status (ignored). Times are RFC 3339 strings.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import timedelta
from typing import Any

from market_gateway.adapters.alpaca.errors import ws_error
from market_gateway.adapters.alpaca.parsing import WIRE, bar_from, canonical, symbol_for
from market_gateway.adapters.alpaca.schemas import DEFAULT_FEED, PROVIDER, stream_path
from market_gateway.adapters.common.feed import Connector, ReconnectingFeed, default_connector
from market_gateway.adapters.common.streams import (
    Backoff,
    Control,
    FeedMessage,
    Tick,
    merged,
    rest_backfill,
)
from market_gateway.domain import AssetClass, FeedEvent, Symbol, Timeframe, UpdateKind
from market_gateway.ports import Clock, QuoteSource

IEX_CHANNEL_LIMIT = 30  # symbols of trades+quotes on the free plan (bars are unlimited)


class AlpacaProtocol:
    def __init__(
        self,
        *,
        ws_url: str,
        key_id: str,
        secret_key: str,
        asset_class: AssetClass,
        feed: str = DEFAULT_FEED,
    ) -> None:
        self._url = ws_url.rstrip("/") + stream_path(asset_class, feed)
        self._key_id, self._secret_key = key_id, secret_key

    @property
    def provider(self) -> str:
        return PROVIDER

    def url(self) -> str:
        return self._url

    def auth_message(self) -> str:
        return json.dumps({"action": "auth", "key": self._key_id, "secret": self._secret_key})

    def subscribe_messages(self, symbols: Sequence[Symbol]) -> list[str]:
        names = [symbol_for(s) for s in symbols]
        return [
            json.dumps(
                {"action": "subscribe", "trades": names, "quotes": names, "dailyBars": names}
            )
        ]

    def decode(self, frame: str | bytes) -> list[FeedMessage]:
        try:
            events = json.loads(frame)
        except ValueError:
            raise WIRE.bad("stream frame is not JSON") from None
        if isinstance(events, Mapping):
            events = [events]
        decoded = (decode_event(WIRE.obj(e, "event")) for e in WIRE.items(events, "frame"))
        return [m for m in decoded if m is not None]


def decode_event(event: Mapping[str, Any]) -> FeedMessage | None:
    """One event of a frame; None for events this feed does not use."""
    kind = event.get("T")
    if kind == "success":
        message = str(event.get("msg", ""))
        if message == "connected":
            return Control("connected")
        return Control("authenticated") if message == "authenticated" else None
    if kind == "subscription":
        return Control("subscribed", json.dumps({k: v for k, v in event.items() if k != "T"}))
    if kind == "error":
        code = event.get("code")
        return ws_error(code if isinstance(code, int) else 0, str(event.get("msg", "")))
    name = canonical(str(event.get("S", "")))
    if name is None:
        return None
    if kind == "t":
        return Tick(
            name,
            UpdateKind.TRADE,
            WIRE.rfc3339(event, "t", "trade"),
            price=WIRE.num(event, "p", "trade"),
            size=WIRE.opt_num(event, "s", "trade") or 0.0,
        )
    if kind == "q":
        return Tick(
            name,
            UpdateKind.QUOTE,
            WIRE.rfc3339(event, "t", "quote"),
            bid=WIRE.num(event, "bp", "quote"),
            ask=WIRE.num(event, "ap", "quote"),
        )
    if kind == "b":
        bar = bar_from(event, Timeframe.ONE_MINUTE, "minute bar")
        end = bar.start_time + timedelta(minutes=1)
        return Tick(name, UpdateKind.BAR, end, price=bar.close, bar=bar)
    if kind == "d":
        day = bar_from(event, Timeframe.ONE_DAY, "daily bar")
        time = WIRE.rfc3339(event, "t", "daily bar")
        return Tick(name, UpdateKind.BAR, time, day_volume=day.volume, silent=True)
    return None


class AlpacaStream:
    """`QuoteStream` over Alpaca's stock and crypto streams (merged when both are asked)."""

    def __init__(
        self,
        *,
        ws_url: str,
        key_id: str,
        secret_key: str,
        clock: Clock,
        feed: str = DEFAULT_FEED,
        rest: QuoteSource | None = None,
        backoff: Backoff | None = None,
        connect: Connector = default_connector,
        handshake_timeout: float = 10.0,
        max_attempts: int | None = None,
    ) -> None:
        self._ws_url, self._key_id, self._secret_key = ws_url, key_id, secret_key
        self._clock, self._feed_name = clock, feed
        self._backfill = rest_backfill(rest) if rest is not None else None
        self._backoff, self._connect = backoff, connect
        self._handshake_timeout, self._max_attempts = handshake_timeout, max_attempts

    @property
    def name(self) -> str:
        return PROVIDER

    @property
    def max_symbols(self) -> int | None:
        """The free (IEX) plan allows 30 trade+quote channels; SIP plans have no limit."""
        return IEX_CHANNEL_LIMIT if self._feed_name == DEFAULT_FEED else None

    def events(self, symbols: Sequence[Symbol]) -> AsyncIterator[FeedEvent]:
        streams = []
        for asset in (AssetClass.STOCK, AssetClass.CRYPTO):
            group = [s for s in symbols if s.asset_class is asset]
            if group:
                protocol = AlpacaProtocol(
                    ws_url=self._ws_url,
                    key_id=self._key_id,
                    secret_key=self._secret_key,
                    asset_class=asset,
                    feed=self._feed_name,
                )
                feed = ReconnectingFeed(
                    protocol,
                    clock=self._clock,
                    backfill=self._backfill,
                    backoff=self._backoff,
                    connect=self._connect,
                    handshake_timeout=self._handshake_timeout,
                    max_attempts=self._max_attempts,
                )
                streams.append(feed.events(group))
        return streams[0] if len(streams) == 1 else merged(streams)  # none: ends at once
