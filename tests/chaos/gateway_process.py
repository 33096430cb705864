"""The market-gateway as a real process (`python -m market_gateway.main`), for chaos tests.

Started through `bench.clocked` (clocks in step with the simulator), with only the
providers a test names, tunables from its own ARGO_CONFIG file, and never a developer's
real keys or Redis (tests/e2e/suite.py's filter). Reads its gRPC API and its /metrics.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import httpx
import yaml
from grpc_health.v1 import health_pb2, health_pb2_grpc
from prometheus_client.parser import text_string_to_metric_families

from argo.marketdata.v1 import marketdata_pb2 as pb
from argo.marketdata.v1 import marketdata_pb2_grpc as pb_grpc
from tests.chaos.sim_process import REPO, SimProcess, clocked_env
from tests.conftest import free_port
from tests.e2e.suite import _without_provider_settings

SERVICE = "argo.marketdata.v1.MarketGateway"
# Chaos runs: no background agreement samples (they would add calls the tests count), a
# breaker that tests again after 1 s instead of 60 s, provider feeds off unless asked for.
CHAOS_TUNABLES: dict[str, Any] = {
    "optimizations": {"agreement": False, "streams": False},
    "resilience": {"breaker_open_seconds": 1.0},
}


@dataclass
class GatewayProcess:
    process: subprocess.Popen[bytes]
    grpc_port: int
    admin_port: int
    log_path: Path
    config_path: Path
    stub: Any  # MarketGatewayStub

    def retune(self, overrides: Mapping[str, Any]) -> None:
        """Rewrite its ARGO_CONFIG (CHAOS_TUNABLES + `overrides`); it reloads within ~2 s."""
        tunables = {"market_gateway": tunables_with(overrides)}
        self.config_path.write_text(yaml.safe_dump(tunables))

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    async def status(self, name: str) -> pb.ProviderStatus:
        reply: pb.GetProviderStatusResponse = await self.stub.GetProviderStatus(
            pb.GetProviderStatusRequest(), timeout=5
        )
        return next(p for p in reply.providers if p.name == name)

    async def quotes(self, symbols: list[str], *, max_age_ms: int = 0, deadline: float = 5) -> Any:
        request = pb.GetQuotesRequest(symbols=symbols, max_age_ms=max_age_ms)
        return await self.stub.GetQuotes(request, timeout=deadline)

    async def metric(self, name: str, **labels: str) -> float:
        """Sum of the samples of `name` (e.g. `argo_x_total`) whose labels include `labels`."""
        async with httpx.AsyncClient(timeout=5) as client:
            reply = await client.get(f"http://127.0.0.1:{self.admin_port}/metrics")
        reply.raise_for_status()
        total = 0.0
        for family in text_string_to_metric_families(reply.text):
            for sample in family.samples:
                if sample.name == name and labels.items() <= sample.labels.items():
                    total += sample.value
        return total


async def wait_until(what: str, check: Any, *, within: float, every: float = 0.05) -> Any:
    """Await `check()` until it returns something truthy; fail naming `what` after `within` s."""
    deadline = time.monotonic() + within
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(every)
    raise AssertionError(f"timed out after {within:g}s waiting for {what} (last: {last!r})")


def tunables_with(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """CHAOS_TUNABLES with `overrides` merged one level deep per section."""
    merged = {key: dict(value) for key, value in CHAOS_TUNABLES.items()}
    for key, value in overrides.items():
        merged[key] = {**merged.get(key, {}), **value} if isinstance(value, Mapping) else value
    return merged


@asynccontextmanager
async def running_gateway(
    workdir: Path,
    sim: SimProcess,
    anchor: str,
    *,
    providers: tuple[str, ...] = ("polygon", "alpaca", "yahoo"),
    tunables: Mapping[str, Any] | None = None,
    env: Mapping[str, str] | None = None,
    ready_timeout: float = 30.0,
) -> AsyncIterator[GatewayProcess]:
    """A gateway process pointed at `sim`'s `providers`, SERVING; SIGTERMed afterwards."""
    config = workdir / "gateway.yaml"
    config.write_text(yaml.safe_dump({"market_gateway": tunables_with(tunables or {})}))
    grpc_port, admin_port = free_port(), free_port()
    full_env = {
        **_without_provider_settings(os.environ),
        **clocked_env(anchor),
        **sim.gateway_env(providers),
        "GRPC_PORT": str(grpc_port),
        "ADMIN_PORT": str(admin_port),
        "BIND_HOST": "127.0.0.1",
        "LOG_FORMAT": "json",
        "ARGO_CONFIG": str(config),
        "OTEL_TRACES_EXPORTER": "none",
        **(env or {}),
    }
    log_path = workdir / "gateway.log"
    process = _spawn(full_env, log_path)
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}")
    stub = pb_grpc.MarketGatewayStub(channel)
    gateway = GatewayProcess(process, grpc_port, admin_port, log_path, config, stub)
    try:
        try:
            async with asyncio.timeout(ready_timeout):
                await _wait_serving(channel)
        except TimeoutError:
            raise RuntimeError(f"gateway not SERVING: {gateway.log_text()[-3000:]}") from None
        yield gateway
    finally:
        await channel.close()
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(process.wait, 20)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait)


def _spawn(env: dict[str, str], log_path: Path) -> subprocess.Popen[bytes]:
    with log_path.open("wb") as log_file:  # the child keeps its own copy of the fd
        return subprocess.Popen(
            [sys.executable, "-m", "bench.clocked", "market_gateway.main"],
            env=env,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )


async def _wait_serving(channel: grpc.aio.Channel) -> None:
    stub = health_pb2_grpc.HealthStub(channel)
    request = health_pb2.HealthCheckRequest(service=SERVICE)
    async for reply in stub.Watch(request, wait_for_ready=True):
        if reply.status == health_pb2.HealthCheckResponse.SERVING:
            return
