"""WebSocket streams: connect, auth, subscribe, data frames as arrays, limits, drops."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from market_gateway.adapters.calendar import NyseCalendar
from service_runtime.clock import FakeClock
from tests.conftest import PROVIDER_FIXTURES
from tests.unit.provider_sim.conftest import SESSION_START, running
from tests.unit.provider_sim.shapes import shape_errors
from tools.provider_sim import ProviderSimulator

FAST = {"defaults": {"stream": {"interval_ms": 5}}}
ALPACA_AUTH = {"action": "auth", "key": "sim-alpaca-key-id", "secret": "sim-alpaca-secret"}


def recorded_events(name: str) -> dict[str, dict[str, Any]]:
    lines = (PROVIDER_FIXTURES / name).read_text().splitlines()
    events = [json.loads(line) for line in lines if line.strip()]
    return {event.get("ev") or event["T"]: event for event in events}


async def receive(ws: ClientConnection) -> list[dict[str, Any]]:
    frame = json.loads(await ws.recv())
    assert isinstance(frame, list)
    return frame


@asynccontextmanager
async def connected(url: str, **kwargs: Any) -> AsyncIterator[ClientConnection]:
    async with websockets.connect(url, **kwargs) as ws:
        yield ws


@pytest.mark.asyncio
async def test_polygon_session_auth_subscribe_and_trade_quote_frames(
    calendar: NyseCalendar,
) -> None:
    examples = recorded_events("polygon/spec-ws-event-examples.jsonl")
    async with running(calendar, FAST) as sim, connected(sim.ws_url("polygon") + "/stocks") as ws:
        assert await receive(ws) == [
            {"ev": "status", "status": "connected", "message": "Connected Successfully"}
        ]
        await ws.send(json.dumps({"action": "auth", "params": sim.api_key("polygon")}))
        assert (await receive(ws))[0]["status"] == "auth_success"
        await ws.send(json.dumps({"action": "subscribe", "params": "T.AAPL,Q.MSFT"}))
        acks = [(await receive(ws))[0]["message"] for _ in range(2)]
        frame = await receive(ws)
    assert acks == ["subscribed to: T.AAPL", "subscribed to: Q.MSFT"]
    by_kind = {event["ev"]: event for event in frame}
    assert set(by_kind) == {"T", "Q"}
    assert shape_errors(by_kind["T"], examples["T"]) == []
    assert shape_errors(by_kind["Q"], examples["Q"]) == []
    assert by_kind["T"]["sym"] == "AAPL" and by_kind["Q"]["sym"] == "MSFT"


@pytest.mark.asyncio
async def test_polygon_minute_aggregates_follow_the_clock(calendar: NyseCalendar) -> None:
    clock = FakeClock(SESSION_START)
    examples = recorded_events("polygon/spec-ws-event-examples.jsonl")
    async with (
        running(calendar, FAST, clock) as sim,
        connected(sim.ws_url("polygon") + "/crypto") as ws,
    ):
        await receive(ws)
        await ws.send(json.dumps({"action": "auth", "params": sim.api_key("polygon")}))
        await receive(ws)
        await ws.send(json.dumps({"action": "subscribe", "params": "XA.BTC-USD"}))
        await receive(ws)
        clock.advance(60)  # a minute completes
        frame = await receive(ws)
    assert [event["ev"] for event in frame] == ["XA"]
    assert shape_errors(frame[0], examples["XA"]) == []
    assert frame[0]["s"] == int(SESSION_START.timestamp()) * 1000


@pytest.mark.asyncio
async def test_polygon_refuses_bad_keys_a_second_connection_and_silence(
    calendar: NyseCalendar,
) -> None:
    config = {"defaults": {"stream": {"interval_ms": 5, "auth_timeout_ms": 20}}}
    url_key = {"action": "auth", "params": "sim-polygon-key"}
    async with running(calendar, config) as sim:
        url = sim.ws_url("polygon") + "/stocks"
        async with connected(url) as bad:
            await receive(bad)
            await bad.send(json.dumps({"action": "auth", "params": "wrong"}))
            assert (await receive(bad))[0]["status"] == "auth_failed"
            await bad.wait_closed()
        async with connected(url) as first, connected(url) as second:
            for ws in (first, second):
                await receive(ws)
                await ws.send(json.dumps(url_key))
            assert (await receive(first))[0]["status"] == "auth_success"
            assert (await receive(second))[0]["status"] == "max_connections"
            await second.wait_closed()
        async with connected(url) as silent:
            await receive(silent)
            assert (await receive(silent))[0]["status"] == "auth_timeout"
        tally = sim.counters.snapshot()["websocket"]["polygon"]
    assert (tally["auth_failed"], tally["refused"], tally["connections"]) == (1, 1, 4)


@pytest.mark.asyncio
async def test_alpaca_session_codes_and_data_points(calendar: NyseCalendar) -> None:
    examples = recorded_events("alpaca/ws-docs-stocks-data-point-examples.jsonl")
    async with running(calendar, FAST) as sim, connected(sim.ws_url("alpaca") + "/v2/sip") as ws:
        assert await receive(ws) == [{"T": "success", "msg": "connected"}]
        await ws.send(json.dumps({"action": "subscribe", "trades": ["AAPL"]}))
        assert await receive(ws) == [{"T": "error", "code": 401, "msg": "not authenticated"}]
        await ws.send(json.dumps(ALPACA_AUTH))
        assert await receive(ws) == [{"T": "success", "msg": "authenticated"}]
        await ws.send(json.dumps(ALPACA_AUTH))
        assert (await receive(ws))[0]["code"] == 403
        await ws.send("{not json")
        assert (await receive(ws))[0]["code"] == 400
        await ws.send(json.dumps({"action": "subscribe", "trades": ["AAPL"], "quotes": ["AMD"]}))
        subscription = await receive(ws)
        frame = await receive(ws)
    assert subscription == [
        {"T": "subscription", "trades": ["AAPL"], "quotes": ["AMD"], "bars": []}
    ]
    by_kind = {event["T"]: event for event in frame}
    assert shape_errors(by_kind["t"], examples["t"]) == []
    assert shape_errors(by_kind["q"], examples["q"]) == []


@pytest.mark.asyncio
async def test_alpaca_header_auth_symbol_limit_and_bad_keys(calendar: NyseCalendar) -> None:
    config = {"providers": {"alpaca": {"stream": {"interval_ms": 5, "symbol_limit": 2}}}}
    headers = {"APCA-API-KEY-ID": "sim-alpaca-key-id", "APCA-API-SECRET-KEY": "sim-alpaca-secret"}
    async with running(calendar, config) as sim:
        url = sim.ws_url("alpaca")
        async with connected(url + "/v2/iex", additional_headers=headers) as ws:
            assert [(await receive(ws))[0]["msg"] for _ in range(2)] == [
                "connected",
                "authenticated",
            ]
            await ws.send(
                json.dumps({"action": "subscribe", "trades": ["AAPL", "MSFT"], "quotes": ["AMD"]})
            )
            assert await receive(ws) == [
                {"T": "error", "code": 405, "msg": "symbol limit exceeded"}
            ]
        async with connected(url + "/v1beta3/crypto/us") as ws:
            await receive(ws)
            await ws.send(json.dumps({**ALPACA_AUTH, "secret": "wrong"}))
            assert await receive(ws) == [{"T": "error", "code": 402, "msg": "auth failed"}]
            await ws.wait_closed()


@pytest.mark.asyncio
@pytest.mark.parametrize(("mode", "code"), [("abort", None), ("close", 1001)])
async def test_streams_drop_after_the_configured_number_of_frames(
    calendar: NyseCalendar, mode: str, code: int | None
) -> None:
    """abort: the TCP connection ends with no close frame; close: a 1001 close frame."""
    config = {"defaults": {"stream": {"interval_ms": 5, "drop_after_frames": 3, "drop_mode": mode}}}
    async with (
        running(calendar, config) as sim,
        connected(sim.ws_url("alpaca") + "/v1beta3/crypto/us") as ws,
    ):
        await receive(ws)
        await ws.send(json.dumps(ALPACA_AUTH))
        await receive(ws)
        await ws.send(json.dumps({"action": "subscribe", "trades": ["BTC/USD"]}))
        await receive(ws)
        frames = [await receive(ws) for _ in range(3)]
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
        tally = sim.counters.snapshot()["websocket"]["alpaca"]
    assert all(frame[0]["S"] == "BTC/USD" for frame in frames)
    received = closed.value.rcvd
    assert (received.code if received is not None else None) == code
    assert (tally["frames"], tally["dropped"]) == (3, 1)


@pytest.mark.asyncio
async def test_an_outage_drops_open_streams(calendar: NyseCalendar, sim: ProviderSimulator) -> None:
    await sim.configure({"defaults": {"stream": {"interval_ms": 5}}})
    async with connected(sim.ws_url("polygon") + "/stocks") as ws:
        await receive(ws)
        await sim.configure(
            {"providers": {"polygon": {"faults": {"down": True, "outage_mode": "503"}}}}
        )
        with pytest.raises(websockets.ConnectionClosed):
            await ws.recv()
    assert sim.counters.snapshot()["websocket"]["polygon"]["dropped"] == 1
