"""The SignalEngine servicer in an in-process grpc.aio server on 127.0.0.1:0."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
import pytest
import pytest_asyncio

from argo.signals.v1 import signals_pb2 as pb
from argo.signals.v1 import signals_pb2_grpc
from service_runtime.clock import FakeClock
from service_runtime.grpc_errors import field_violations
from signal_engine.bootstrap import EngineWiring
from signal_engine.domain import GatewayUnavailable

from .fakes import FakeMarketData

pytestmark = pytest.mark.asyncio


@pytest_asyncio.fixture
async def stub(wiring: EngineWiring) -> AsyncIterator[signals_pb2_grpc.SignalEngineAsyncStub]:
    server = grpc.aio.server()
    wiring.register(server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        yield signals_pb2_grpc.SignalEngineStub(channel)  # type: ignore[misc]
    await server.stop(None)


async def test_generate_signals_maps_every_field(stub, wiring: EngineWiring) -> None:
    reply = await stub.GenerateSignals(
        pb.GenerateSignalsRequest(symbols=["aapl", "btc/usd", "NOPE"]), timeout=5
    )
    assert {s.symbol for s in reply.signals} == {"AAPL", "BTC-USD"}
    assert [(f.symbol, f.message) for f in reply.failures] == [("NOPE", "unknown symbol")]
    signal = next(s for s in reply.signals if s.symbol == "AAPL")
    domain = wiring.app.latest(["AAPL"])[0][0]
    assert signal.signal_id == domain.signal_id
    assert (
        signal.action
        == {"BUY": pb.ACTION_BUY, "SELL": pb.ACTION_SELL, "HOLD": pb.ACTION_HOLD}[
            domain.action.value
        ]
    )
    assert signal.confidence == domain.confidence and signal.entry_price == 190.0
    assert signal.create_time.ToDatetime().isoformat() == "2026-11-17T15:30:00"
    assert signal.expire_time.seconds - signal.create_time.seconds == 900
    sources = ["ma_crossover", "rsi", "macd", "momentum", "bollinger"]
    assert [c.source for c in signal.lineage] == sources
    assert signal.lineage[0].provider == "synthetic" and signal.lineage[0].data_age_ms == 0
    assert [c.contribution for c in signal.lineage] == [p.contribution for p in domain.lineage]
    assert sum(c.raw_contribution for c in signal.lineage) == pytest.approx(signal.confidence)
    assert not signal.reused and not signal.stale


async def test_too_many_symbols_is_invalid_argument(stub) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GenerateSignals(pb.GenerateSignalsRequest(symbols=["AAPL"] * 501), timeout=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [f for f, _ in field_violations(caught.value)] == ["symbols"]


@pytest.mark.parametrize("method", ["GenerateSignals", "GetLatestSignals"])
async def test_bad_symbols_are_reported_by_index(stub, method: str) -> None:
    request_type = {
        "GenerateSignals": pb.GenerateSignalsRequest,
        "GetLatestSignals": pb.GetLatestSignalsRequest,
    }[method]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await getattr(stub, method)(request_type(symbols=["AAPL", "no way", "$$"]), timeout=5)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [f for f, _ in field_violations(caught.value)] == ["symbols[1]", "symbols[2]"]


async def test_stream_rejects_bad_symbols(stub) -> None:
    call = stub.StreamSignals(pb.StreamSignalsRequest(symbols=["???"]), timeout=5)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call.read()
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field_violations(caught.value)[0][0] == "symbols[0]"


async def test_gateway_down_with_nothing_to_serve_is_unavailable_with_pushback(
    stub, market: FakeMarketData
) -> None:
    market.quote_failure = GatewayUnavailable("quota exhausted", retry_after_ms=1500)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GenerateSignals(pb.GenerateSignalsRequest(), timeout=5)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "quota exhausted" in (caught.value.details() or "")
    assert ("retry-after-ms", "1500") in tuple(caught.value.trailing_metadata() or ())


async def test_unexpected_error_is_internal(stub, market: FakeMarketData) -> None:
    market.quote_failure = RuntimeError("bug")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GenerateSignals(pb.GenerateSignalsRequest(), timeout=5)
    assert caught.value.code() == grpc.StatusCode.INTERNAL
    assert "bug" not in (caught.value.details() or "")


async def test_caller_deadline_is_honoured(stub, market: FakeMarketData) -> None:
    market.block_quotes = asyncio.Event()  # the gateway never answers
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.GenerateSignals(pb.GenerateSignalsRequest(), timeout=0.2)
    assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    market.block_quotes.set()


async def test_latest_lists_missing_symbols(stub) -> None:
    await stub.GenerateSignals(pb.GenerateSignalsRequest(symbols=["AAPL"]), timeout=5)
    reply = await stub.GetLatestSignals(
        pb.GetLatestSignalsRequest(symbols=["AAPL", "ETH-USD"]), timeout=5
    )
    assert [s.symbol for s in reply.signals] == ["AAPL"]
    assert list(reply.missing_symbols) == ["ETH-USD"]


async def test_stream_delivers_new_signals_and_ends_cleanly_on_cancel(
    stub, wiring: EngineWiring
) -> None:
    call = stub.StreamSignals(pb.StreamSignalsRequest(symbols=["ETH-USD"]))
    async with asyncio.timeout(5):
        await call.initial_metadata()  # sent once the subscription is live
        assert wiring.app.stream_subscribers == 1
        await wiring.app.run_cycle()
        first = await call.read()
    assert first.signal.symbol == "ETH-USD"
    call.cancel()
    async with asyncio.timeout(5):
        # the server's cleanup after a client cancel has no event to await: yield until done
        while wiring.app.stream_subscribers > 0:  # noqa: ASYNC110
            await asyncio.sleep(0)
    assert call.cancelled()


async def test_engine_stats(stub, wiring: EngineWiring, clock: FakeClock) -> None:
    empty = await stub.GetEngineStats(pb.GetEngineStatsRequest(), timeout=5)
    assert empty.cycles_total == 0 and not empty.HasField("last_cycle_time")
    await wiring.app.run_cycle()
    clock.advance(5)
    await wiring.app.run_cycle()
    stats = await stub.GetEngineStats(pb.GetEngineStatsRequest(), timeout=5)
    assert stats.cycles_total == 2
    assert stats.symbols_processed_total == 12 and stats.symbols_skipped_total == 6
    assert stats.skip_rate == pytest.approx(0.5)
    assert stats.signals_published_total == 6 and stats.outbox_depth == 0
    assert stats.upstream_calls_per_cycle == pytest.approx((1 + 6 + 6 + 1) / 2)
    assert stats.HasField("last_cycle_time")
    assert list(stats.symbols) == ["AAPL", "NVDA", "TSLA", "MSFT", "BTC-USD", "ETH-USD"]
    assert list(stats.configured_symbols) == list(stats.symbols)
    assert stats.replica_id == "replica-a" and stats.delivered_total == 6
