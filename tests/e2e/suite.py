"""Start the three services as real processes for end-to-end tests."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from service_runtime.channels import ChannelSecurity, open_channel
from tests.conftest import free_port

SERVICES = {
    "market-gateway": ("market_gateway.main", "argo.marketdata.v1.MarketGateway"),
    "tracker": ("tracker.main", "argo.tracker.v1.Tracker"),
    "signal-engine": ("signal_engine.main", "argo.signals.v1.SignalEngine"),
}


# A developer's real provider keys (and URLs, and Redis) must never reach end-to-end runs:
# the suite runs on the synthetic market, in memory, unless a test passes them explicitly.
_PROVIDERS = ("POLYGON", "ALPACA", "ALPHAVANTAGE", "YAHOO", "XAI", "PERPLEXITY", "DEEPSEEK",
              "QWEN", "GLM")  # fmt: skip
_INHERITED_NEVER = {"REDIS_URL", "YAHOO_ENABLED", "ALPACA_API_KEY_ID", "ALPACA_API_SECRET_KEY"}


def _without_provider_settings(environ: Mapping[str, str]) -> dict[str, str]:
    def provider_setting(name: str) -> bool:
        prefix, _, rest = name.partition("_")
        return prefix in _PROVIDERS and rest in ("API_KEY", "BASE_URL", "WS_URL")

    return {
        k: v for k, v in environ.items() if k not in _INHERITED_NEVER and not provider_setting(k)
    }


@dataclass
class RunningService:
    name: str
    grpc_port: int
    admin_port: int
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


@dataclass
class Suite:
    workdir: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    services: dict[str, RunningService] = field(default_factory=dict)
    # TLS / bearer token for the suite's own health checks when the services require them
    # (service_runtime.channels); None: plaintext.
    channel_security: ChannelSecurity | None = None

    def start(self) -> None:
        ports = {name: (free_port(), free_port()) for name in SERVICES}
        common = {
            **_without_provider_settings(os.environ),
            "LOG_FORMAT": "json",
            "BIND_HOST": "127.0.0.1",
            "MARKET_GATEWAY_ADDR": f"127.0.0.1:{ports['market-gateway'][0]}",
            "TRACKER_ADDR": f"127.0.0.1:{ports['tracker'][0]}",
            "DATABASE_URL": f"sqlite:///{self.workdir / 'tracker.db'}",
            **self.extra_env,
        }
        for name, (module, _) in SERVICES.items():
            grpc_port, admin_port = ports[name]
            env = {**common, "GRPC_PORT": str(grpc_port), "ADMIN_PORT": str(admin_port)}
            env.setdefault("OTEL_SERVICE_NAME", name)
            env["OTEL_SERVICE_NAME"] = name
            log_path = self.workdir / f"{name}.log"
            with log_path.open("wb") as log_file:  # the child keeps its own copy of the fd
                process = subprocess.Popen(
                    [sys.executable, "-m", module],
                    env=env,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    cwd=self.workdir,
                )
            self.services[name] = RunningService(name, grpc_port, admin_port, process, log_path)

    async def wait_serving(self) -> None:
        """Wait (bounded by the caller's timeout) until every service reports SERVING."""
        try:
            for name, (_, service_name) in SERVICES.items():
                await self._wait_one(self.services[name], service_name)
        except (TimeoutError, asyncio.CancelledError):
            dead = {n: s.log_text()[-2000:] for n, s in self.services.items() if s.process.poll()}
            raise RuntimeError(f"services did not become SERVING; exited: {dead}") from None

    async def _wait_one(self, service: RunningService, service_name: str) -> None:
        # Health/Watch with wait_for_ready: no polling, the first SERVING ends the wait.
        async with self.channel(service.name) as channel:
            stub = health_pb2_grpc.HealthStub(channel)
            request = health_pb2.HealthCheckRequest(service=service_name)
            async for reply in stub.Watch(request, wait_for_ready=True):
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return

    def channel(self, name: str) -> grpc.aio.Channel:
        """A channel to one service, with `channel_security` when set."""
        address = self.services[name].address
        if self.channel_security is None:
            return grpc.aio.insecure_channel(address)
        return open_channel(address, self.channel_security)

    def stop(self, timeout: float = 20.0) -> dict[str, int]:
        """SIGTERM every service (engine first) and return their exit codes."""
        codes: dict[str, int] = {}
        for name in ("signal-engine", "tracker", "market-gateway"):
            service = self.services.get(name)
            if service is None:
                continue
            if service.process.poll() is None:
                service.process.send_signal(signal.SIGTERM)
            try:
                codes[name] = service.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                service.process.kill()
                codes[name] = service.process.wait()
        return codes
