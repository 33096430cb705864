"""The terminal view of `make run`: latest signals, refreshed every second."""

from __future__ import annotations

import asyncio
import os
import subprocess
from datetime import UTC, datetime
from typing import Any

import grpc
import httpx
from rich.console import Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from argo.signals.v1 import signals_pb2, signals_pb2_grpc
from service_runtime.channels import ChannelSecurity, load_channel_security, open_channel

_ACTION_STYLE = {"BUY": "bold green", "SELL": "bold red", "HOLD": "yellow"}


class ServiceDied(RuntimeError):
    pass


class LiveView:
    def __init__(
        self,
        *,
        engine_addr: str,
        gateway_admin: str,
        processes: dict[str, subprocess.Popen[bytes]],
        security: ChannelSecurity | None = None,
    ) -> None:
        self._engine_addr = engine_addr
        # The same TLS_CA_FILE / client certificate / ARGO_CALLER_TOKEN the services use for
        # their outbound channels, so the view still reaches the engine with TLS or auth on.
        self._security = security if security is not None else load_channel_security(os.environ)
        self._gateway_admin = gateway_admin
        self._processes = processes

    async def run(self) -> None:
        async with (
            open_channel(self._engine_addr, self._security) as channel,
            httpx.AsyncClient(timeout=1.0) as http,
        ):
            stub = signals_pb2_grpc.SignalEngineStub(channel)
            with Live(Text("waiting for the first signals..."), refresh_per_second=4) as live:
                while True:
                    self._check_processes()
                    live.update(await self._render(stub, http))
                    await asyncio.sleep(1.0)

    def _check_processes(self) -> None:
        for name, process in self._processes.items():
            if process.poll() is not None:
                raise ServiceDied(
                    f"{name} exited with code {process.returncode}; see var/logs/{name}.log"
                )

    async def _render(
        self, stub: signals_pb2_grpc.SignalEngineStub, http: httpx.AsyncClient
    ) -> Any:
        try:
            latest = await stub.GetLatestSignals(signals_pb2.GetLatestSignalsRequest(), timeout=2)
            stats = await stub.GetEngineStats(signals_pb2.GetEngineStatsRequest(), timeout=2)
        except grpc.aio.AioRpcError as e:
            return Text(f"waiting for signal-engine ({e.code().name})...")
        hit_rate = await self._gateway_hit_rate(http)
        now = datetime.now(UTC)
        table = Table(title="Argo signals (live)", expand=False)
        for column in ("symbol", "price", "action", "confidence", "age", "regime"):
            table.add_column(column, justify="right" if column != "symbol" else "left")
        for signal in sorted(latest.signals, key=lambda s: s.symbol):
            action = signals_pb2.Action.Name(signal.action).removeprefix("ACTION_")
            created = signal.create_time.ToDatetime(tzinfo=UTC)
            table.add_row(
                signal.symbol,
                f"{signal.entry_price:,.2f}",
                Text(action, style=_ACTION_STYLE.get(action, "")),
                f"{signal.confidence:.1f}",
                _age(created, now, stats.last_cycle_time.ToDatetime(tzinfo=UTC)),
                signals_pb2.Regime.Name(signal.regime).removeprefix("REGIME_").lower(),
            )
        footer = Text(
            f"cycles {stats.cycles_total}  cycle p50 {stats.cycle_time_p50_ms:.1f} ms  "
            f"p99 {stats.cycle_time_p99_ms:.1f} ms  skip rate {stats.skip_rate:.0%}  "
            f"gateway cache hit rate {hit_rate}  (Ctrl-C stops)"
        )
        return Group(table, footer)

    async def _gateway_hit_rate(self, http: httpx.AsyncClient) -> str:
        try:
            body = (await http.get(f"{self._gateway_admin}/api/v1/health")).json()
            rate = body["services"]["performance"].get("cache_hit_rate")
        except (httpx.HTTPError, ValueError, KeyError):
            return "n/a"
        return "n/a" if rate is None else f"{float(rate):.0%}"


def _age(created: datetime, now: datetime, last_cycle: datetime) -> str:
    # Signal times follow the (possibly simulated) service clock; measure the age against
    # the engine's own last cycle so a simulated session reads correctly.
    reference = max(last_cycle, created) if last_cycle.year > 1970 else now
    seconds = max(0.0, (reference - created).total_seconds())
    return f"{seconds:.0f}s"
