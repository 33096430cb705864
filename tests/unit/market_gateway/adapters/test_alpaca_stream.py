"""Alpaca WebSocket feed against an in-process server: documented frames and error codes,
reconnect after a connection-limit error, and a dropped stream back-filled over REST."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from market_gateway.adapters.alpaca.client import AlpacaClient
from market_gateway.adapters.alpaca.stream import AlpacaProtocol, AlpacaStream
from market_gateway.adapters.common.streams import Backoff, Control, Tick
from market_gateway.domain import (
    AssetClass,
    AuthFailed,
    Backfilled,
    FeedEvent,
    FeedGap,
    ProviderUnavailable,
    QuoteUpdate,
    UpdateKind,
    parse_symbol,
)
from service_runtime.clock import FakeClock

from .support import load, load_lines
from .wsserver import Peer, ScriptedServer

KEY_ID, SECRET = "alpaca-ws-key", "alpaca-ws-secret"
T0 = datetime(2021, 2, 22, 15, 52, tzinfo=UTC)  # just after the documented data examples
CONTROL = load_lines("alpaca", "ws-docs-stocks-control-messages.jsonl")
ERRORS = load_lines("alpaca", "ws-docs-stocks-error-messages.jsonl")
DATA = load_lines("alpaca", "ws-docs-stocks-data-point-examples.jsonl")
AAPL, AMD = parse_symbol("AAPL"), parse_symbol("AMD")


def stock_protocol() -> AlpacaProtocol:
    return AlpacaProtocol(
        ws_url="wss://stream.test", key_id=KEY_ID, secret_key=SECRET, asset_class=AssetClass.STOCK
    )


async def handshake(peer: Peer) -> dict[str, object]:
    await peer.send(CONTROL[0])
    await peer.recv()
    await peer.send(CONTROL[1])
    subscribe = json.loads(await peer.recv())
    await peer.send(CONTROL[2])
    return subscribe


async def take(events: AsyncIterator[FeedEvent], count: int) -> list[FeedEvent]:
    taken: list[FeedEvent] = []
    async with asyncio.timeout(5):
        async for event in events:
            taken.append(event)
            if len(taken) == count:
                break
    await events.aclose()  # type: ignore[attr-defined]
    return taken


def stream(url: str, clock: FakeClock, **extra: object) -> AlpacaStream:
    return AlpacaStream(
        ws_url=url,
        key_id=KEY_ID,
        secret_key=SECRET,
        clock=clock,
        **extra,  # type: ignore[arg-type]
    )


def test_protocol_urls_auth_and_subscription() -> None:
    protocol = stock_protocol()
    assert protocol.url() == "wss://stream.test/v2/iex"
    assert json.loads(protocol.auth_message()) == {
        "action": "auth",
        "key": KEY_ID,
        "secret": SECRET,
    }
    crypto = AlpacaProtocol(
        ws_url="wss://stream.test", key_id="k", secret_key="s", asset_class=AssetClass.CRYPTO
    )
    assert crypto.url() == "wss://stream.test/v1beta3/crypto/us"
    [subscribe] = crypto.subscribe_messages([parse_symbol("BTC-USD")])
    assert json.loads(subscribe) == {
        "action": "subscribe",
        "trades": ["BTC/USD"],
        "quotes": ["BTC/USD"],
        "dailyBars": ["BTC/USD"],
    }


def test_documented_data_points_decode_to_ticks() -> None:
    ticks = [m for m in stock_protocol().decode("[" + ",".join(DATA) + "]") if isinstance(m, Tick)]
    assert [(t.symbol, t.kind, t.silent) for t in ticks] == [
        ("AAPL", UpdateKind.TRADE, False),
        ("AMD", UpdateKind.QUOTE, False),
        ("SPY", UpdateKind.BAR, False),
        ("SPY", UpdateKind.BAR, True),  # daily bar: only refreshes the day's volume
    ]
    assert ticks[2].bar is not None and ticks[2].time == datetime(2021, 2, 22, 19, 16, tzinfo=UTC)
    assert ticks[3].day_volume == 749378


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ws-docs-stocks-control-messages.jsonl", ["connected", "authenticated", "subscribed"]),
        ("ws-docs-stocks-subscribe-unsubscribe-excerpt.jsonl", ["subscribed", "subscribed"]),
        ("ws-docs-crypto-wscat-session.jsonl", ["connected", "authenticated", "tick"]),
        ("ws-error-405-symbol-limit-exceeded-zorro-issue11.jsonl", [(ProviderUnavailable, False)]),
        (
            "ws-docs-stocks-error-messages.jsonl",
            [
                (ProviderUnavailable, False),  # 400 invalid syntax
                (ProviderUnavailable, True),  # 401 not authenticated
                (AuthFailed, False),  # 402 auth failed
                # 403 already authenticated: ignored
                (ProviderUnavailable, True),  # 404 auth timeout
                (ProviderUnavailable, False),  # 405 symbol limit
                (ProviderUnavailable, True),  # 406 connection limit
                (ProviderUnavailable, True),  # 407 slow client
                (AuthFailed, False),  # 408 v2 not enabled
                (AuthFailed, False),  # 409 insufficient subscription
                (ProviderUnavailable, True),  # 500 internal error
            ],
        ),
    ],
)
def test_recorded_sequences_are_classified(name: str, expected: list[object]) -> None:
    seen: list[object] = []
    for line in load_lines("alpaca", name):
        for message in stock_protocol().decode(line):
            if isinstance(message, Control):
                seen.append(message.kind)
            elif isinstance(message, Tick):
                seen.append("tick")
            else:
                seen.append((type(message), message.retryable))
    assert seen == expected


@pytest.mark.asyncio
async def test_stream_subscribes_and_folds_trades_and_quotes() -> None:
    async def session(peer: Peer) -> None:
        await handshake(peer)
        await peer.send(f"[{DATA[0]},{DATA[1]}]")  # AAPL trade and AMD quote in one frame
        await peer.hold()

    async with ScriptedServer(session) as server:
        events = await take(stream(server.url, FakeClock(T0)).events([AAPL, AMD]), 2)
    trade, quote = events
    assert isinstance(trade, QuoteUpdate) and isinstance(quote, QuoteUpdate)
    assert (trade.quote.price, trade.size) == (126.55, 1)
    assert (quote.quote.price, quote.quote.bid, quote.quote.ask) == (87.67, 87.66, 87.68)
    subscribe = json.loads(server.peers[0].received[1])
    assert subscribe["trades"] == ["AAPL", "AMD"] and server.peers[0].path == "/v2/iex"


@pytest.mark.asyncio
async def test_auth_failed_402_is_fatal() -> None:
    async def session(peer: Peer) -> None:
        await peer.send(CONTROL[0])
        await peer.recv()
        await peer.send(ERRORS[2])
        await peer.hold()

    async with ScriptedServer(session) as server:
        with pytest.raises(AuthFailed, match="auth failed"):
            await take(stream(server.url, FakeClock(T0)).events([AAPL]), 1)
    assert len(server.peers) == 1


@pytest.mark.asyncio
async def test_symbol_limit_405_after_subscribing_is_fatal() -> None:
    async def session(peer: Peer) -> None:
        await handshake(peer)
        await peer.send(
            load_lines("alpaca", "ws-error-405-symbol-limit-exceeded-zorro-issue11.jsonl")[0]
        )
        await peer.hold()

    async with ScriptedServer(session) as server:
        with pytest.raises(ProviderUnavailable, match="symbol limit") as caught:
            await take(stream(server.url, FakeClock(T0)).events([AAPL]), 1)
    assert not caught.value.retryable and len(server.peers) == 1


@pytest.mark.asyncio
async def test_connection_limit_406_is_retried_after_backoff() -> None:
    async def limited(peer: Peer) -> None:
        await peer.send(CONTROL[0])
        await peer.recv()
        await peer.send(ERRORS[6])  # 406 connection limit exceeded
        await peer.close()

    async def accepted(peer: Peer) -> None:
        await handshake(peer)
        await peer.send(f"[{DATA[0]}]")
        await peer.hold()

    clock = FakeClock(T0)
    async with ScriptedServer(limited, accepted) as server:
        feed = stream(server.url, clock, backoff=Backoff(base=2.0, rand=lambda: 0.25))
        events = await take(feed.events([AAPL]), 1)
    assert isinstance(events[0], QuoteUpdate) and len(server.peers) == 2
    assert clock.monotonic() == pytest.approx(0.5)


@pytest.mark.asyncio
async def test_a_dropped_stream_is_resubscribed_and_back_filled_from_rest() -> None:
    async def first(peer: Peer) -> None:
        await handshake(peer)
        await peer.send(f"[{DATA[0]}]")  # AAPL trade at 15:51:44.208
        peer.ws.transport.abort()  # an abrupt drop, no close frame

    async def second(peer: Peer) -> None:
        await handshake(peer)
        await peer.hold()

    clock = FakeClock(T0)
    requests: list[httpx.Request] = []

    def respond(request: httpx.Request) -> httpx.Response:
        requests.append(request)
        if request.url.path == "/v2/stocks/bars":
            return httpx.Response(
                200, json=load("alpaca", "rest-stocks-get-bars-single-empty-response-alpacapy.json")
            )
        snapshot = load("alpaca", "rest-stocks-get-snapshot-alpacapy.json")
        snapshot["AAPL"]["latestTrade"]["t"] = "2021-02-22T15:51:58Z"  # during the gap
        return httpx.Response(200, json=snapshot)

    http = httpx.AsyncClient(base_url="https://data.test", transport=httpx.MockTransport(respond))
    rest = AlpacaClient(http, key_id=KEY_ID, secret_key=SECRET, clock=clock)
    async with ScriptedServer(first, second) as server:
        feed = stream(server.url, clock, rest=rest, backoff=Backoff(base=1.0, rand=lambda: 1.0))
        events = await take(feed.events([AAPL]), 3)
    trade, gap, filled = events
    assert isinstance(trade, QuoteUpdate) and isinstance(gap, FeedGap)
    assert (gap.start, gap.end) == (T0, T0 + timedelta(seconds=1))
    assert isinstance(filled, Backfilled) and filled.bars == ()
    assert filled.start == datetime(2021, 2, 22, 15, 51, 44, 208000, tzinfo=UTC)
    assert filled.quote is not None and filled.quote.price == 161.1998
    bars_request = requests[0]
    assert bars_request.url.params["start"] == "2021-02-22T15:51:00Z"
    assert bars_request.url.params["timeframe"] == "1Min"
    assert json.loads(server.peers[1].received[1])["trades"] == ["AAPL"]
