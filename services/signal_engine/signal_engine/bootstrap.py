"""Composition root: builds adapters (or takes fakes), the app and the Wiring."""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import grpc
from opentelemetry.trace import TracerProvider

from argo.signals.v1 import signals_pb2_grpc
from service_runtime.channels import open_channel
from service_runtime.clock import SystemClock
from service_runtime.wiring import Wiring
from signal_engine.adapters.ids import Uuid4Ids
from signal_engine.adapters.market_gateway_client import GatewayMarketData
from signal_engine.adapters.tracker_client import TrackerSignalSink
from signal_engine.app import EngineApp
from signal_engine.config import Settings, Tunables, parse_tunables
from signal_engine.grpc_api.servicer import SignalEngineServicer
from signal_engine.ports import Clock, IdGenerator, MarketData, SignalSink

SERVICE_NAME = "argo.signals.v1.SignalEngine"


@dataclass
class EngineWiring(Wiring):
    """The Wiring plus the app itself, for tests and tools that drive it directly."""

    app: EngineApp = field(kw_only=True)


def performance_report(app: EngineApp) -> Mapping[str, Any]:
    """The `performance` object of GET /api/v1/health (seed-facts.md names)."""
    stats = app.stats()
    return {
        "avg_signal_generation_time": stats.avg_cycle_seconds,
        "skip_rate": stats.skip_rate,
        "total_skipped_symbols": stats.symbols_skipped_total,
        "total_symbols_processed": stats.symbols_processed_total,
        "cycles_total": stats.cycles_total,
        "cycle_time_p50_ms": stats.cycle_time_p50_ms,
        "cycle_time_p99_ms": stats.cycle_time_p99_ms,
        "upstream_calls_per_cycle": stats.upstream_calls_per_cycle,
        "signals_published_total": stats.signals_published_total,
        "pending_deliveries": stats.pending_deliveries,
        "stream_dropped_total": stats.stream_dropped_total,
    }


async def bootstrap(
    settings: Settings,
    *,
    clock: Clock | None = None,
    market: MarketData | None = None,
    sink: SignalSink | None = None,
    ids: IdGenerator | None = None,
    tunables: Tunables | None = None,
    tracer_provider: TracerProvider | None = None,
) -> EngineWiring:
    """Build the engine; real gRPC clients for every port not given. Nothing connects
    here: channels connect lazily and `ready` reports when the gateway is reachable."""
    exit_stack = contextlib.AsyncExitStack()
    if market is None:
        gateway_channel = open_channel(settings.market_gateway_addr)
        exit_stack.push_async_callback(gateway_channel.close)
        market = GatewayMarketData(
            gateway_channel, deadline_seconds=settings.gateway_deadline_seconds
        )
    if sink is None:
        tracker_channel = open_channel(settings.tracker_addr)
        exit_stack.push_async_callback(tracker_channel.close)
        sink = TrackerSignalSink(
            tracker_channel, deadline_seconds=settings.tracker_deadline_seconds
        )
    app = EngineApp(
        market=market,
        sink=sink,
        clock=clock or SystemClock(settings.common.clock_start),
        ids=ids or Uuid4Ids(),
        tunables=tunables or Tunables(),
        symbols=settings.symbols,
        cycle_seconds=settings.cycle_seconds,
        tracer_provider=tracer_provider,
    )
    exit_stack.push_async_callback(app.aclose)  # runs first: ends streams, last delivery
    ready_market = market

    def register(server: grpc.aio.Server) -> None:
        signals_pb2_grpc.add_SignalEngineServicer_to_server(SignalEngineServicer(app), server)

    def apply_config(raw: Mapping[str, Any]) -> None:
        app.apply_tunables(parse_tunables(raw))

    async def ready() -> bool:
        return await ready_market.check_ready()

    return EngineWiring(
        service_names=[SERVICE_NAME],
        register=register,
        performance=lambda: performance_report(app),
        exit_stack=exit_stack,
        background=[app.run_cycles],
        apply_config=apply_config,
        ready=ready,
        app=app,
    )
