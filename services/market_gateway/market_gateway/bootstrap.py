"""Composition root: build the adapters, the app and the servicer; hand them to the runtime."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import grpc
import structlog

from argo.marketdata.v1 import marketdata_pb2_grpc as pb_grpc
from market_gateway.adapters.calendar import NyseCalendar
from market_gateway.adapters.factory import Sources, build_sources
from market_gateway.adapters.synthetic.market import SyntheticMarket
from market_gateway.app import MarketGatewayApp
from market_gateway.config import Settings, Tunables, parse_tunables
from market_gateway.grpc_api.servicer import SERVICE_NAME, MarketGatewayServicer
from market_gateway.ports import Clock, MarketCalendar, QuoteSource
from service_runtime.clock import SystemClock
from service_runtime.wiring import Wiring

log = structlog.get_logger(__name__)


@dataclass
class GatewayWiring(Wiring):
    """The Wiring plus the app itself, for tests and tools that drive it directly."""

    app: MarketGatewayApp = field(kw_only=True)
    sources: Sources = field(kw_only=True, default_factory=Sources)


async def bootstrap(
    settings: Settings,
    *,
    clock: Clock | None = None,
    source: QuoteSource | None = None,
    calendar: MarketCalendar | None = None,
) -> GatewayWiring:
    """Wire market-gateway; every port can be replaced by a fake. Without `source`, the first
    enabled provider serves quotes and bars (the synthetic market when none is enabled)."""
    clock = clock or SystemClock(settings.common.clock_start)
    if calendar is None:
        calendar = await asyncio.to_thread(NyseCalendar.build)
    tunables = parse_tunables({})
    exit_stack = contextlib.AsyncExitStack()
    sources = build_sources(settings.providers, clock=clock, exit_stack=exit_stack)
    synthetic: SyntheticMarket | None = None
    if source is None and sources.quotes:
        source = sources.quotes[0]
    if source is None:
        synthetic = SyntheticMarket(
            clock=clock,
            calendar=calendar,
            seed=settings.synthetic_seed,
            anchor=_anchor(settings, clock),
            volatility_scale=tunables.synthetic_volatility_scale,
            history_days=settings.synthetic_history_days,
        )
        source = synthetic
    app = MarketGatewayApp(source, clock, calendar, tunables)
    servicer = MarketGatewayServicer(app)
    exit_stack.callback(app.begin_shutdown)

    def register(server: grpc.aio.Server) -> None:
        pb_grpc.add_MarketGatewayServicer_to_server(servicer, server)

    def apply_config(raw: Mapping[str, Any]) -> None:
        new = parse_tunables(raw)
        app.apply_tunables(new)
        if synthetic is not None:
            synthetic.set_volatility_scale(new.synthetic_volatility_scale)
        log.info("tunables_applied", **_describe(new))

    async def end_streams_on_shutdown() -> None:
        """Cancelled when the runtime shuts down: open streams then end at their next tick."""
        try:
            await asyncio.Event().wait()
        finally:
            app.begin_shutdown()

    log.info("market_gateway_wired", provider=source.name, enabled_providers=sources.names)
    return GatewayWiring(
        service_names=[SERVICE_NAME],
        register=register,
        performance=app.performance,
        exit_stack=exit_stack,
        background=[end_streams_on_shutdown],
        apply_config=apply_config,
        app=app,
        sources=sources,
    )


def _anchor(settings: Settings, clock: Clock) -> date:
    if settings.synthetic_anchor is not None:
        return settings.synthetic_anchor
    if settings.common.clock_start is not None:
        return settings.common.clock_start.date()
    return clock.now().date()


def _describe(tunables: Tunables) -> dict[str, Any]:
    return {
        "quote_ttl_seconds": tunables.quote_ttl_seconds,
        "stream_interval_seconds": tunables.stream_interval_seconds,
        "synthetic_volatility_scale": tunables.synthetic_volatility_scale,
        "disabled_providers": sorted(tunables.disabled_providers),
    }
