"""Real processes of one benchmark phase: the provider simulator and the three services.

Each runs as `python -m <module>` in its own session (a Ctrl-C reaches the harness only),
with its output in `<logs>/<name>.log`; `stop()` sends SIGTERM in dependency order and
escalates to SIGKILL after a grace period. Only processes started here are ever signalled.
"""

from __future__ import annotations

import asyncio
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

SERVICES = {  # name -> (module, gRPC health service name); started in this order
    "market-gateway": ("market_gateway.main", "argo.marketdata.v1.MarketGateway"),
    "tracker": ("tracker.main", "argo.tracker.v1.Tracker"),
    "signal-engine": ("signal_engine.main", "argo.signals.v1.SignalEngine"),
}
STOP_ORDER = ("signal-engine", "tracker", "market-gateway", "provider-sim")
GRACE_SECONDS = 15.0
CLOCKED = ("-m", "bench.clocked")  # clocks in step across processes (bench/clocked.py)
_ADMIN_LINE = re.compile(r"^provider simulator on \S+ \(admin: (\S+)\)$", re.M)


class StartupError(RuntimeError):
    """A process exited or did not become ready in time (the message has its log tail)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log_path: Path
    grpc_port: int = 0
    admin_port: int = 0

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"

    def log_tail(self, chars: int = 3000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-chars:]
        except FileNotFoundError:
            return ""

    def check_alive(self) -> None:
        code = self.popen.poll()
        if code is not None:
            raise StartupError(f"{self.name} exited with {code}:\n{self.log_tail()}")


def spawn(name: str, args: list[str], env: Mapping[str, str], logs: Path, cwd: Path) -> Process:
    """`python <args>` in its own session, output to <logs>/<name>.log."""
    log_path = logs / f"{name}.log"
    with log_path.open("wb") as log_file:  # the child keeps its own copy of the descriptor
        popen = subprocess.Popen(
            [sys.executable, *args],
            env=dict(env),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            start_new_session=True,
        )
    return Process(name, popen, log_path)


@dataclass
class Cluster:
    """The processes of one phase, by name."""

    logs: Path
    workdir: Path
    processes: dict[str, Process] = field(default_factory=dict)
    sim_url: str = ""  # http://127.0.0.1:<port>/_sim

    async def start_simulator(
        self, config: Path, env: Mapping[str, str], within: float = 120.0
    ) -> dict[str, str]:
        """Start the simulator, wait until its universe is warm; return the gateway env."""
        env_file = self.workdir / "sim.env"
        args = [*CLOCKED, "tools.provider_sim.__main__", "--port", "0", "--config", str(config)]
        sim = spawn(
            "provider-sim", [*args, "--env-file", str(env_file)], env, self.logs, self.workdir
        )
        self.processes[sim.name] = sim
        deadline = time.monotonic() + within
        while not env_file.exists():
            sim.check_alive()
            await _before(deadline, "provider-sim did not start", sim)
        variables = dict(
            line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line
        )
        while not (admin := _sim_admin_url(sim)):
            await _before(deadline, "provider-sim did not print its address", sim)
        self.sim_url = admin
        async with aiohttp.ClientSession() as http:
            while True:
                async with http.get(f"{self.sim_url}/health") as reply:
                    if (await reply.json()).get("warm"):
                        return variables
                await _before(deadline, "provider-sim did not warm up", sim)

    def start_service(
        self,
        name: str,
        env: Mapping[str, str],
        ports: tuple[int, int],
        *,
        log_name: str | None = None,
    ) -> Process:
        """Start `name` (its log: <logs>/<log_name or name>.log)."""
        module, _ = SERVICES[name]
        grpc_port, admin_port = ports
        full = {**env, "GRPC_PORT": str(grpc_port), "ADMIN_PORT": str(admin_port)}
        full["OTEL_SERVICE_NAME"] = name
        process = spawn(log_name or name, [*CLOCKED, module], full, self.logs, self.workdir)
        process.grpc_port, process.admin_port = grpc_port, admin_port
        self.processes[name] = process
        return process

    async def wait_serving(self, name: str, within: float = 90.0) -> None:
        """Wait until the service's gRPC health says SERVING (fails early if it exits)."""
        process = self.processes[name]
        _, health_name = SERVICES[name]
        try:
            await asyncio.wait_for(_watch_serving(process, health_name), within)
        except TimeoutError:
            process.check_alive()
            raise StartupError(f"{name} not SERVING after {within:.0f} s") from None

    def stop(self, *names: str) -> dict[str, int]:
        """SIGTERM the named processes (default: all) in dependency order; exit codes."""
        codes: dict[str, int] = {}
        for name in STOP_ORDER:
            process = self.processes.get(name)
            if process is None or (names and name not in names):
                continue
            if process.popen.poll() is None:
                process.popen.send_signal(signal.SIGTERM)
            try:
                codes[name] = process.popen.wait(timeout=GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                process.popen.kill()
                codes[name] = process.popen.wait()
            del self.processes[name]
        return codes


async def _watch_serving(process: Process, health_name: str) -> None:
    while True:
        process.check_alive()
        try:
            async with grpc.aio.insecure_channel(process.address) as channel:
                stub = health_pb2_grpc.HealthStub(channel)
                request = health_pb2.HealthCheckRequest(service=health_name)
                reply = await stub.Check(request, timeout=1.0)
                if reply.status == health_pb2.HealthCheckResponse.SERVING:
                    return
        except grpc.aio.AioRpcError:
            pass
        await asyncio.sleep(0.1)


async def _before(deadline: float, message: str, process: Process) -> None:
    if time.monotonic() > deadline:
        raise StartupError(f"{message}:\n{process.log_tail()}")
    await asyncio.sleep(0.1)


def _sim_admin_url(sim: Process) -> str | None:
    """The admin URL from the simulator's 'provider simulator on ... (admin: URL)' line."""
    found = _ADMIN_LINE.search(sim.log_tail(50_000))
    return found.group(1) if found else None


async def get_json(http: aiohttp.ClientSession, url: str) -> Any:
    async with http.get(url) as reply:
        reply.raise_for_status()
        return await reply.json()


async def get_text(http: aiohttp.ClientSession, url: str) -> str:
    async with http.get(url) as reply:
        reply.raise_for_status()
        return await reply.text()
