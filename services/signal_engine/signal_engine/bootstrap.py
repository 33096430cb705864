"""Composition root: builds adapters (or takes fakes), the app and the Wiring."""

from __future__ import annotations

import contextlib
import os
import socket
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from opentelemetry.trace import TracerProvider
from redis.asyncio import Redis

from argo.signals.v1 import signals_pb2_grpc
from service_runtime.channels import open_channel
from service_runtime.clock import SystemClock
from service_runtime.settings import ConfigError
from service_runtime.wiring import Wiring
from signal_engine.adapters.ids import Uuid4Ids
from signal_engine.adapters.market_gateway_client import GatewayMarketData
from signal_engine.adapters.nyse_calendar import NyseSessions
from signal_engine.adapters.outbox import SqliteOutbox
from signal_engine.adapters.redis_leases import RedisLeases
from signal_engine.adapters.tracker_client import TrackerCalibrations, TrackerSignalSink
from signal_engine.app import AllSymbols, EngineApp
from signal_engine.config import Settings, Tunables, parse_tunables
from signal_engine.domain import OutboxError
from signal_engine.grpc_api.servicer import SignalEngineServicer
from signal_engine.ports import (
    CalibrationSource,
    Clock,
    IdGenerator,
    MarketCalendar,
    MarketData,
    Outbox,
    Ownership,
    SignalSink,
)

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
        "signals_deduplicated_total": stats.signals_deduplicated_total,
        "outbox_depth": stats.outbox_depth,
        "outbox_refused_total": stats.outbox_refused_total,
        "stream_dropped_total": stats.stream_dropped_total,
        "replica_id": stats.replica_id,
        "symbols_owned": len(stats.symbols),
    }


def default_replica_id() -> str:
    return f"{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


async def _open_outbox(settings: Settings, stack: contextlib.AsyncExitStack) -> Outbox:
    try:
        outbox = await SqliteOutbox.open(
            Path(settings.outbox_dir), capacity=settings.outbox_max_signals
        )
    except OutboxError as e:
        raise ConfigError(f"ENGINE_OUTBOX_DIR: {e}") from e
    stack.push_async_callback(outbox.aclose)
    return outbox


def _ownership(settings: Settings, clock: Clock, stack: contextlib.AsyncExitStack) -> Ownership:
    replica_id = settings.replica_id or default_replica_id()
    if settings.redis_url is None:
        return AllSymbols(settings.symbols, replica_id)
    timeout = min(1.0, settings.lease_seconds / 5.0)
    redis = Redis.from_url(
        settings.redis_url, socket_timeout=timeout, socket_connect_timeout=timeout
    )
    stack.push_async_callback(redis.aclose)
    return RedisLeases(
        redis,
        settings.symbols,
        clock=clock,
        replica_id=replica_id,
        key_prefix=settings.redis_key_prefix,
        lease_seconds=settings.lease_seconds,
    )


async def bootstrap(
    settings: Settings,
    *,
    clock: Clock | None = None,
    market: MarketData | None = None,
    sink: SignalSink | None = None,
    calibrations: CalibrationSource | None = None,
    outbox: Outbox | None = None,
    ownership: Ownership | None = None,
    calendar: MarketCalendar | None = None,
    ids: IdGenerator | None = None,
    tunables: Tunables | None = None,
    tracer_provider: TracerProvider | None = None,
) -> EngineWiring:
    """Build the engine; real adapters for every port not given. Channels connect lazily
    and `ready` reports when the gateway is reachable; the outbox file is opened here
    (ConfigError when the directory is unusable or another engine holds it)."""
    clock = clock or SystemClock(settings.common.clock_start)
    stack = contextlib.AsyncExitStack()
    if market is None:

        def gateway_channel() -> grpc.aio.Channel:
            return open_channel(settings.market_gateway_addr, settings.common.outbound)

        gateway = GatewayMarketData(
            gateway_channel(),
            deadline_seconds=settings.gateway_deadline_seconds,
            reopen=gateway_channel,
        )
        stack.push_async_callback(gateway.aclose)
        market = gateway
    if sink is None or calibrations is None:
        tracker_channel = open_channel(settings.tracker_addr, settings.common.outbound)
        stack.push_async_callback(tracker_channel.close)
        deadline = settings.tracker_deadline_seconds
        sink = sink or TrackerSignalSink(tracker_channel, deadline_seconds=deadline)
        calibrations = calibrations or TrackerCalibrations(
            tracker_channel, deadline_seconds=deadline
        )
    try:
        outbox = outbox or await _open_outbox(settings, stack)
        ownership = ownership or _ownership(settings, clock, stack)
    except BaseException:
        await stack.aclose()
        raise
    app = EngineApp(
        market=market,
        sink=sink,
        outbox=outbox,
        calibrations=calibrations,
        ownership=ownership,
        calendar=calendar or NyseSessions(),
        clock=clock,
        ids=ids or Uuid4Ids(),
        tunables=tunables or Tunables(),
        symbols=settings.symbols,
        cycle_seconds=settings.cycle_seconds,
        tracer_provider=tracer_provider,
        delivery_max_backoff_seconds=settings.delivery_max_backoff_seconds,
    )
    stack.push_async_callback(app.aclose)  # runs first: last delivery, leases released
    ready_market = market

    def register(server: grpc.aio.Server) -> None:
        signals_pb2_grpc.add_SignalEngineServicer_to_server(SignalEngineServicer(app), server)

    def apply_config(raw: Mapping[str, Any]) -> None:
        app.apply_tunables(parse_tunables(raw))

    async def ready() -> bool:
        return await ready_market.check_ready()

    async def on_shutdown() -> None:
        app.end_streams()

    return EngineWiring(
        service_names=[SERVICE_NAME],
        register=register,
        performance=lambda: performance_report(app),
        exit_stack=stack,
        background=[app.run_cycles, app.delivery.run, ownership.keep],
        apply_config=apply_config,
        ready=ready,
        on_shutdown=on_shutdown,
        app=app,
    )
