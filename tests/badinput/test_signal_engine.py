"""Bad input to every SignalEngine RPC: INVALID_ARGUMENT naming the field, never a bug, and
a rejected GenerateSignals forms no signal (no id minted, nothing in the outbox or sink).

The engine is wired by its real bootstrap() over the unit tests' fakes and served once per
module on a background loop (see harness.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import grpc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from argo.signals.v1 import signals_pb2 as pb
from argo.signals.v1 import signals_pb2_grpc
from service_runtime.clock import FakeClock
from signal_engine.bootstrap import EngineWiring, bootstrap
from signal_engine.config import load_settings
from signal_engine.domain import Tunables
from tests.unit.signal_engine.conftest import PRICES, START, SYMBOLS
from tests.unit.signal_engine.fakes import (
    FakeCalendar,
    FakeCalibrations,
    FakeMarketData,
    FakeOutbox,
    FakeOwnership,
    FakeSignalSink,
    SequentialIds,
)

from . import strategies as s
from .harness import (
    Answer,
    LoopThread,
    Served,
    assert_rejected,
    check_raw_requests,
    first_of_stream,
    rpc_methods,
    unary,
)

BOUNDED = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
MAX_SYMBOLS = 500
METHODS = ("GenerateSignals", "GetLatestSignals", "StreamSignals")
REQUESTS = {
    "GenerateSignals": pb.GenerateSignalsRequest,
    "GetLatestSignals": pb.GetLatestSignalsRequest,
    "StreamSignals": pb.StreamSignalsRequest,
}
valid_symbol = s.symbol_spellings(SYMBOLS)


@dataclass
class Engine:
    loop: LoopThread
    channel: grpc.aio.Channel
    stub: signals_pb2_grpc.SignalEngineStub
    wiring: EngineWiring
    sink: FakeSignalSink
    outbox: FakeOutbox
    ids: SequentialIds

    def formed(self) -> tuple[int, int, int, int]:
        """Ids minted, outbox rows, signals delivered, symbols with a latest signal."""
        latest, _ = self.wiring.app.latest()
        return self.ids.count, len(self.outbox.rows), len(self.sink.recorded), len(latest)


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    loop = LoopThread()
    clock = FakeClock(START)
    sink, outbox, ids = FakeSignalSink(), FakeOutbox(), SequentialIds()
    settings_ = load_settings({"SYMBOLS": ",".join(SYMBOLS), "CYCLE_SECONDS": "5"})

    async def start() -> tuple[Served, EngineWiring, grpc.aio.Channel]:
        wiring = await bootstrap(
            settings_,
            clock=clock,
            market=FakeMarketData(clock.now, PRICES),
            sink=sink,
            calibrations=FakeCalibrations(),
            outbox=outbox,
            ownership=FakeOwnership(SYMBOLS),
            calendar=FakeCalendar(),
            ids=ids,
            tunables=Tunables(quiet_volatility_pct=0.0),
        )
        served = Served(wiring.register)
        return served, wiring, await served.start()

    served, wiring, channel = loop.run(start())
    stub = signals_pb2_grpc.SignalEngineStub(channel)
    try:
        yield Engine(loop, channel, stub, wiring, sink, outbox, ids)
    finally:
        loop.run(served.stop())
        loop.run(wiring.exit_stack.aclose())
        loop.close()


@st.composite
def bad_symbol_lists(draw: st.DrawFn) -> tuple[list[str], set[str]]:
    """1..3 malformed symbols among valid ones, or more than 500 symbols."""
    if draw(st.integers(0, 4)) == 0:
        return [draw(valid_symbol)] * draw(st.integers(MAX_SYMBOLS + 1, 600)), {"symbols"}
    symbols = draw(st.lists(valid_symbol, max_size=5))
    bad = draw(st.lists(s.bad_symbols(), min_size=1, max_size=3))
    for value in bad:
        symbols.insert(draw(st.integers(0, len(symbols))), value)
    return symbols, {f"symbols[{i}]" for i, v in enumerate(symbols) if v in bad}


def ask(engine: Engine, method: str, symbols: list[str]) -> Answer:
    request = REQUESTS[method](symbols=symbols)
    if method == "StreamSignals":
        return engine.loop.run(first_of_stream(engine.stub.StreamSignals, request, read=False))
    return engine.loop.run(unary(getattr(engine.stub, method), request))


@BOUNDED
@given(method=st.sampled_from(METHODS), case=bad_symbol_lists(), force=st.booleans())
def test_malformed_symbols_are_invalid_argument_and_form_no_signal(
    engine: Engine, method: str, case: tuple[list[str], set[str]], force: bool
) -> None:
    """Else a malformed symbol would be asked of the gateway, or a half-valid
    GenerateSignals would publish signals (to the outbox and the tracker) for a request
    the caller was told failed."""
    symbols, fields = case
    before = engine.formed()
    if method == "GenerateSignals":
        request = pb.GenerateSignalsRequest(symbols=symbols, force=force)
        answer = engine.loop.run(unary(engine.stub.GenerateSignals, request))
    else:
        answer = ask(engine, method, symbols)
    assert_rejected(answer, fields)
    assert engine.formed() == before


@settings(BOUNDED, max_examples=25)
@given(symbols=st.lists(valid_symbol, max_size=4), force=st.booleans())
def test_valid_generate_signals_succeed(engine: Engine, symbols: list[str], force: bool) -> None:
    """Else the validator would refuse symbols the engine can serve (any case, padding,
    crypto spellings, or none for every owned symbol)."""
    answer = engine.loop.run(
        unary(engine.stub.GenerateSignals, pb.GenerateSignalsRequest(symbols=symbols, force=force))
    )
    assert answer.code == grpc.StatusCode.OK, answer
    assert not answer.reply.failures
    assert {sig.symbol for sig in answer.reply.signals} <= set(SYMBOLS)


@BOUNDED
@given(method=st.sampled_from(METHODS[1:]), symbols=st.lists(valid_symbol, max_size=6))
def test_valid_reads_succeed(engine: Engine, method: str, symbols: list[str]) -> None:
    """Else GetLatestSignals / StreamSignals would refuse valid symbol lists."""
    answer = ask(engine, method, symbols)
    assert answer.code == grpc.StatusCode.OK, answer


@settings(BOUNDED, max_examples=20)
@given(extra=s.unknown_fields())
def test_engine_stats_ignore_unknown_fields(engine: Engine, extra: bytes) -> None:
    """Else a newer client sending fields this engine does not know would be refused."""
    method = engine.channel.unary_unary(
        "/argo.signals.v1.SignalEngine/GetEngineStats",
        request_serializer=None,
        response_deserializer=pb.GetEngineStatsResponse.FromString,
    )
    answer = engine.loop.run(unary(method, extra))
    assert answer.code == grpc.StatusCode.OK, answer
    assert list(answer.reply.configured_symbols) == sorted(SYMBOLS) or answer.reply.replica_id


DESCRIPTOR = pb.DESCRIPTOR.services_by_name["SignalEngine"]
COVERED = ("GenerateSignals", "GetEngineStats", "GetLatestSignals", "StreamSignals")


def test_every_rpc_of_the_service_is_covered() -> None:
    """Else a new RPC would ship without bad-input properties (add it to COVERED once
    its properties exist in this module)."""
    assert sorted(rpc_methods(DESCRIPTOR)) == sorted(COVERED)


@pytest.mark.parametrize("name", COVERED)
@settings(BOUNDED, max_examples=10)
@given(data=st.data())
def test_raw_request_bytes_are_refused_or_answered_without_a_bug(
    engine: Engine, name: str, data: st.DataObject
) -> None:
    """Else bytes that are not the request message would answer OK, INTERNAL or hang, or
    a request carrying only fields this engine does not know would crash it; the server
    keeps serving."""
    request_type = rpc_methods(DESCRIPTOR)[name][0]
    payload = data.draw(st.one_of(s.undecodable(request_type), s.unknown_fields()))
    check_raw_requests(engine.loop, engine.channel, DESCRIPTOR, name, payload)
    stats = engine.loop.run(unary(engine.stub.GetEngineStats, pb.GetEngineStatsRequest()))
    assert stats.code == grpc.StatusCode.OK, stats


@BOUNDED
@given(
    method=st.sampled_from(METHODS),
    symbols=st.lists(st.one_of(valid_symbol, st.text(max_size=40)), max_size=4),
)
def test_any_symbol_text_is_answered_without_a_bug(
    engine: Engine, method: str, symbols: list[str]
) -> None:
    """Else some symbol text would crash the engine (INTERNAL) instead of being served,
    reported as a failure or rejected with INVALID_ARGUMENT."""
    answer = ask(engine, method, symbols)
    assert answer.code in (grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT), answer
    if answer.code == grpc.StatusCode.INVALID_ARGUMENT:
        assert answer.violations, answer
