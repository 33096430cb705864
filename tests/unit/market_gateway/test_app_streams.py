"""Quote streams of the app: per-symbol sequences, change detection, resume, shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator

import pytest

from market_gateway.app import MarketGatewayApp
from market_gateway.domain import InvalidResumeToken, StreamEvent, UnknownSymbol
from market_gateway.streaming import decode_resume_token, encode_resume_token
from service_runtime.clock import FakeClock

from .fakes import FakeQuoteSource

pytestmark = pytest.mark.asyncio


async def next_event(stream: AsyncGenerator[StreamEvent, None]) -> StreamEvent:
    # The FakeClock makes every poll instant; the timeout only guards against a hang.
    return await asyncio.wait_for(anext(stream), timeout=5)


def summary(event: StreamEvent) -> tuple[str, int, float | None]:
    return event.symbol, event.sequence, event.quote.price if event.quote else None


async def test_each_symbol_starts_at_one_and_advances_only_when_its_price_changes(
    app: MarketGatewayApp, source: FakeQuoteSource, clock: FakeClock
) -> None:
    stream = app.stream_quotes(["aapl", "BTC/USD", "AAPL"])
    first = [await next_event(stream), await next_event(stream)]
    assert [summary(e) for e in first] == [("AAPL", 1, 230.0), ("BTC-USD", 1, 90_000.0)]
    assert app.active_streams == 1
    polls = len(source.quote_calls)
    source.prices["BTC-USD"] = 90_100.0
    changed = await next_event(stream)
    assert summary(changed) == ("BTC-USD", 2, 90_100.0)
    assert len(source.quote_calls) == polls + 1  # one poll per stream interval
    assert decode_resume_token(changed.resume_token).sequences == {"AAPL": 1, "BTC-USD": 2}
    await stream.aclose()
    assert app.active_streams == 0


async def test_resume_replays_what_the_client_missed_then_continues_live(
    app: MarketGatewayApp, source: FakeQuoteSource
) -> None:
    first_stream = app.stream_quotes(["AAPL", "BTC-USD"])
    received = await next_event(first_stream)  # AAPL #1: the last event the client saw
    in_flight = [await next_event(first_stream)]  # BTC #1
    source.prices["AAPL"] = 231.0
    in_flight.append(await next_event(first_stream))  # AAPL #2
    await first_stream.aclose()

    resumed = app.stream_quotes(["AAPL", "BTC-USD"], received.resume_token)
    replayed = [await next_event(resumed), await next_event(resumed)]
    assert [(e.symbol, e.sequence, e.quote) for e in replayed] == [
        (e.symbol, e.sequence, e.quote) for e in in_flight
    ]
    source.prices["AAPL"] = 232.0
    assert summary(await next_event(resumed)) == ("AAPL", 3, 232.0)
    await resumed.aclose()


async def test_resume_from_a_stream_the_gateway_does_not_hold_sends_a_gap(
    app: MarketGatewayApp,
) -> None:
    token = encode_resume_token("from-another-replica", {"AAPL": 41})
    stream = app.stream_quotes(["AAPL", "MSFT"], token)
    gap = await next_event(stream)
    assert gap.gap is not None and (gap.symbol, gap.sequence) == ("AAPL", 42)
    assert (gap.gap.from_sequence, gap.gap.to_sequence) == (42, 42)
    after = [summary(await next_event(stream)) for _ in range(2)]
    assert after == [("AAPL", 43, 230.0), ("MSFT", 1, 420.0)]
    await stream.aclose()


async def test_bad_tokens_and_unknown_symbols_end_the_stream_before_any_event(
    app: MarketGatewayApp,
) -> None:
    with pytest.raises(InvalidResumeToken):
        await next_event(app.stream_quotes(["AAPL"], "definitely-not-a-token"))
    with pytest.raises(UnknownSymbol):
        await next_event(app.stream_quotes(["AAPL", "NOPE"]))
    assert app.active_streams == 0


async def test_shutdown_ends_open_streams_at_their_next_tick(
    app: MarketGatewayApp, source: FakeQuoteSource
) -> None:
    stream = app.stream_quotes(["AAPL"])
    await next_event(stream)
    app.begin_shutdown()
    with pytest.raises(StopAsyncIteration):
        await next_event(stream)
    assert app.active_streams == 0
