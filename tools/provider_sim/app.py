"""`ProviderSimulator`: one aiohttp server speaking every provider's wire format.

    async with ProviderSimulator({"defaults": {"latency": {"median_ms": 0}}},
                                 clock=FakeClock(start), port=0) as sim:
        httpx.get(sim.base_url("polygon") + "/v2/last/trade/AAPL",
                  params={"apiKey": sim.api_key("polygon")})

Each provider lives under its own path prefix (`/polygon`, `/xai/v1`, ...; see
`BASE_PATHS`) on the shared port, and also on a port of its own (what `base_url()` and
`env()` hand out) so that an outage can refuse connections. Admin endpoints are under
`/_sim/` (counters, reset, config, env) on every port.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from datetime import timedelta
from types import TracebackType
from typing import Any

import structlog
from aiohttp import web

from market_gateway.adapters.calendar import NyseCalendar
from market_gateway.adapters.synthetic.market import SyntheticMarket
from market_gateway.domain import AssetClass
from market_gateway.ports import Clock, MarketCalendar
from service_runtime.clock import SystemClock
from tools.provider_sim import admin
from tools.provider_sim.config import SimConfig
from tools.provider_sim.counters import Counters
from tools.provider_sim.faults import FaultInjector
from tools.provider_sim.gate import Gate
from tools.provider_sim.listeners import Listeners, provider_ports
from tools.provider_sim.market import MarketView
from tools.provider_sim.providers import all_providers
from tools.provider_sim.providers.base import ProviderBase, SimContext
from tools.provider_sim.providers.stream_base import StreamHub
from tools.provider_sim.quotas import QuotaBook
from tools.provider_sim.urls import environment, provider_url

log = structlog.get_logger(__name__)
_WATCH_SECONDS = 0.05  # how often outage windows are checked against the clock


class ProviderSimulator:
    def __init__(
        self,
        config: SimConfig | Mapping[str, Any] | None = None,
        *,
        clock: Clock | None = None,
        calendar: MarketCalendar | None = None,
        port: int | None = None,
    ) -> None:
        self.config = config if isinstance(config, SimConfig) else SimConfig.parse(config)
        self.clock: Clock = clock or SystemClock()
        self._calendar = calendar
        self._port = self.config.listen.port if port is None else port
        self.started_at = self.clock.now()
        self.counters = Counters(self.started_at)
        self.quotas = QuotaBook()
        self.faults = FaultInjector(self.config.seed)
        self.gate = Gate(self.quotas, self.faults, self.started_at)
        self.hub = StreamHub()
        self.providers: dict[str, ProviderBase] = {}
        self._runner: web.AppRunner | None = None
        self._listeners: Listeners | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._warmer: asyncio.Task[None] | None = None
        self.warm = False  # the universe's daily history is computed (see market.warm_days)

    async def start(self) -> None:
        calendar = self._calendar
        if calendar is None:
            calendar = await asyncio.to_thread(NyseCalendar.build)
        market_cfg = self.config.market
        synthetic = SyntheticMarket(
            clock=self.clock,
            calendar=calendar,
            seed=market_cfg.seed,
            anchor=market_cfg.anchor_date or self.started_at.date(),
            history_days=market_cfg.history_days,
            max_cached_days=market_cfg.max_cached_days,
        )
        view = MarketView(
            synthetic,
            calendar,
            self.clock,
            unknown=market_cfg.unknown_symbols,
            universe=market_cfg.universe,
        )
        if market_cfg.warm_days > 0:
            self._warmer = asyncio.create_task(self._warm(view, market_cfg.warm_days))
        else:
            self.warm = True
        context = SimContext(self.clock, view, self.counters, lambda: self.config)
        self.providers = {p.name: p for p in all_providers(context)}
        app = web.Application()
        for provider in self.providers.values():
            self._add_routes(app, provider)
        admin.add_routes(app, self)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        self._listeners = Listeners(self._runner, self.config.listen.host)
        await self._listeners.start(self._port, provider_ports(self.config.listen, self._port))
        self._watcher = asyncio.create_task(self._watch_outages())
        log.info("provider_sim_started", port=self.port, providers=len(self.providers))

    async def stop(self) -> None:
        for task in (self._watcher, self._warmer):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        await self.hub.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
        self._runner = None

    async def __aenter__(self) -> ProviderSimulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The shared port (every provider and the admin endpoints)."""
        return self._listeners.main_port if self._listeners else 0

    @property
    def admin_url(self) -> str:
        return f"http://{self.config.listen.host}:{self.port}/_sim"

    def base_url(self, provider: str) -> str:
        """What `<PROVIDER>_BASE_URL` should be, e.g. http://127.0.0.1:8901/polygon."""
        return provider_url(self._host_port(provider), provider, websocket=False)

    def ws_url(self, provider: str) -> str:
        """What `<PROVIDER>_WS_URL` should be (polygon and alpaca only)."""
        return provider_url(self._host_port(provider), provider, websocket=True)

    def api_key(self, provider: str) -> str:
        return self.config.provider(provider).api_key

    def env(self) -> dict[str, str]:
        """Every variable the gateway needs to use the simulator for every provider."""
        return environment(self.config, self._host_port)

    async def wait_warm(self) -> None:
        """Return once the universe's daily history is computed (see market.warm_days)."""
        if self._warmer is not None:
            await asyncio.shield(self._warmer)

    async def configure(self, patch: Mapping[str, Any]) -> SimConfig:
        """Apply a runtime patch (ValueError if invalid) and act on outages at once."""
        self.config = self.config.patched(patch)
        await self.sync_outages()
        return self.config

    def reset(self) -> None:
        """Counters, quota windows and the random streams start over; config stays."""
        self.counters.reset(self.clock.now())
        self.quotas.reset()
        self.faults.reset()

    async def sync_outages(self) -> None:
        """Close the listeners of providers refusing connections now; reopen the others."""
        if self._listeners is None:
            return
        for name, provider in self.providers.items():
            mode = self.gate.outage(provider)
            if mode == "refuse" and self._listeners.is_listening(name):
                await self._listeners.close(name)
                log.info("provider_sim_outage_started", provider=name)
            elif mode != "refuse" and not self._listeners.is_listening(name):
                await self._listeners.reopen(name)
                if name in self._listeners.ports:
                    log.info("provider_sim_outage_ended", provider=name)

    def _host_port(self, provider: str) -> str:
        port = self._listeners.ports.get(provider, self.port) if self._listeners else self._port
        return f"{self.config.listen.host}:{port}"

    def _add_routes(self, app: web.Application, provider: ProviderBase) -> None:
        for route in provider.routes():
            path = provider.base_path + route.path
            app.router.add_route(route.method, path, self.gate.wrap(provider, route))
        for route in provider.stream_routes(self.hub, self.gate.outage):
            path = provider.stream_path + route.path
            app.router.add_get(path, self.gate.wrap_stream(provider, route))

    async def _warm(self, view: MarketView, days: int) -> None:
        """Compute the universe's daily history now, so first calls are not slow (a year of
        daily bars costs the synthetic market ~0.3 s per symbol the first time)."""
        symbols = view.universe(AssetClass.STOCK) + view.universe(AssetClass.CRYPTO)
        for symbol in symbols:
            today = view.trading_date(symbol, self.clock.now())
            await view.daily(symbol, today - timedelta(days=days), today)
        self.warm = True
        log.info("provider_sim_warm", symbols=len(symbols), days=days)

    async def _watch_outages(self) -> None:
        while True:
            await asyncio.sleep(_WATCH_SECONDS)
            try:
                await self.sync_outages()
            except OSError as e:  # the port was taken meanwhile; try again next round
                log.warning("provider_sim_reopen_failed", error=str(e))
