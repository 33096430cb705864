"""signal-engine under load: 64 concurrent callers on each of its four RPCs, against the
real process (with the real gateway and tracker behind it). StreamSignals' 64 subscribers
are open while 64 GenerateSignals callers form new signals, so each receives updates.
"""

from __future__ import annotations

import asyncio
from typing import Any

import grpc
import pytest

from argo.signals.v1 import signals_pb2 as pb
from argo.signals.v1 import signals_pb2_grpc as pb_grpc
from tests.e2e.suite import Suite
from tests.load import settings
from tests.load.driver import (
    LoadResult,
    drive,
    rss_mib,
    subscribe,
)
from tests.load.universe import pick
from tests.load.verdict import broken_promises

pytestmark = [pytest.mark.load, pytest.mark.e2e]


def engine_calls(stub: pb_grpc.SignalEngineStub) -> dict[str, Any]:
    async def generate_signals(i: int) -> None:
        symbols = pick(i, 2)
        reply = await stub.GenerateSignals(
            pb.GenerateSignalsRequest(symbols=symbols, force=i % 2 == 0), timeout=10
        )
        assert not reply.failures and len(reply.signals) == 2, reply.failures

    async def get_latest_signals(i: int) -> None:
        symbols = pick(i, 1 + i % 5)
        reply = await stub.GetLatestSignals(pb.GetLatestSignalsRequest(symbols=symbols), timeout=10)
        assert len(reply.signals) + len(reply.missing_symbols) == len(symbols), reply

    async def get_engine_stats(i: int) -> None:
        reply = await stub.GetEngineStats(pb.GetEngineStatsRequest(), timeout=10)
        assert reply.replica_id, reply

    return {
        "SignalEngine/GenerateSignals": generate_signals,
        "SignalEngine/GetLatestSignals": get_latest_signals,
        "SignalEngine/GetEngineStats": get_engine_stats,
    }


def open_signal_stream(stub: pb_grpc.SignalEngineStub) -> Any:
    def open_stream(i: int) -> Any:
        return stub.StreamSignals(pb.StreamSignalsRequest())  # every symbol

    return open_stream


def check_signal_event(event: pb.StreamSignalsResponse) -> None:
    assert event.signal.symbol and event.signal.signal_id, event


async def generate_while_streaming(
    stub: pb_grpc.SignalEngineStub, seconds: float
) -> tuple[LoadResult, LoadResult]:
    """64 StreamSignals subscribers open for the whole of 64 GenerateSignals callers' run."""
    generate = engine_calls(stub)["SignalEngine/GenerateSignals"]
    streams = asyncio.create_task(
        subscribe(
            "SignalEngine/StreamSignals",
            open_signal_stream(stub),
            seconds=seconds + 0.5,
            check=check_signal_event,
        )
    )
    await asyncio.sleep(0.2)  # subscribed before the first signal
    generated = await drive("SignalEngine/GenerateSignals", generate, seconds=seconds)
    return generated, await streams


@pytest.mark.asyncio
async def test_engine_every_rpc_under_64_callers_no_errors_bounded_p99_flat_memory(
    load_suite: Suite,
) -> None:
    """64 callers on every engine RPC and 64 StreamSignals subscribers: every call OK, p99
    within the limit, every subscriber receives new signals, and the RSS flat after
    warm-up. If it failed, callers asking for signals at modest concurrency would get
    errors or stalls, a subscriber could miss signals while others are formed, or the
    per-symbol state, signal book or subscriber queues would grow until the pod is
    OOM-killed."""
    engine = load_suite.services["signal-engine"]
    results: list[LoadResult] = []
    async with grpc.aio.insecure_channel(engine.address) as channel:
        stub = pb_grpc.SignalEngineStub(channel)
        calls = engine_calls(stub)
        for phase, seconds in (("warm-up", settings.WARMUP_SECONDS), ("run", settings.SECONDS)):
            if phase == "run":
                warm_rss = rss_mib(engine.process.pid)
            results.extend(await generate_while_streaming(stub, seconds))
            for name in ("SignalEngine/GetLatestSignals", "SignalEngine/GetEngineStats"):
                results.append(await drive(name, calls[name], seconds=seconds))
        end_rss = rss_mib(engine.process.pid)
    rss = {"signal-engine": (warm_rss, end_rss)}
    broken = broken_promises(results, rss)
    assert not broken, broken
