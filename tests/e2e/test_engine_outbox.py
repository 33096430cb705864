"""The engine's outbox with real processes: signals formed while the tracker is away, and
across a SIGKILL of the engine and then of the tracker, all arrive, each exactly once.

Composes tests/e2e/suite.py's pieces to start and kill the services one by one.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import urllib.request
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
import pytest_asyncio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from argo.signals.v1 import signals_pb2, signals_pb2_grpc
from argo.tracker.v1 import tracker_pb2, tracker_pb2_grpc
from tests.conftest import free_port
from tests.e2e.suite import SERVICES, RunningService

pytestmark = pytest.mark.e2e
ASKED = ["BTC-USD", "ETH-USD"]  # requested by the test; the engine cycles other symbols
CLOCK_START = "2026-11-17T10:30:00-05:00"


@dataclass
class Processes:
    """Services started one at a time, each with fixed ports so it can be restarted."""

    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    ports: dict[str, tuple[int, int]] = field(default_factory=dict)
    running: dict[str, RunningService] = field(default_factory=dict)
    starts: int = 0

    def address(self, name: str) -> str:
        return f"127.0.0.1:{self.port(name)[0]}"

    def port(self, name: str) -> tuple[int, int]:
        if name not in self.ports:
            self.ports[name] = (free_port(), free_port())
        return self.ports[name]

    def start(self, name: str, kind: str, **env: str) -> RunningService:
        module = SERVICES[kind][0]
        grpc_port, admin_port = self.port(name)
        self.starts += 1
        full = {
            **os.environ,
            "LOG_FORMAT": "json",
            "BIND_HOST": "127.0.0.1",
            "ARGO_CLOCK_START": CLOCK_START,
            "OTEL_SERVICE_NAME": kind,
            **self.env,
            **env,
            "GRPC_PORT": str(grpc_port),
            "ADMIN_PORT": str(admin_port),
        }
        log_path = self.workdir / f"{name}.{self.starts}.log"
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                [sys.executable, "-m", module],
                env=full,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                cwd=self.workdir,
            )
        self.running[name] = RunningService(name, grpc_port, admin_port, process, log_path)
        return self.running[name]

    async def serving(self, name: str, kind: str, within: float = 30.0) -> None:
        service = self.running[name]
        request = health_pb2.HealthCheckRequest(service=SERVICES[kind][1])
        try:
            async with asyncio.timeout(within), grpc.aio.insecure_channel(service.address) as ch:
                async for reply in health_pb2_grpc.HealthStub(ch).Watch(
                    request, wait_for_ready=True
                ):
                    if reply.status == health_pb2.HealthCheckResponse.SERVING:
                        return
        except TimeoutError:
            raise AssertionError(f"{name} not SERVING: {service.log_text()[-3000:]}") from None

    def kill(self, name: str) -> None:
        """SIGKILL: no shutdown hook runs, nothing is flushed."""
        process = self.running.pop(name).process
        process.kill()
        process.wait(timeout=10)

    def stop_all(self) -> dict[str, int]:
        codes: dict[str, int] = {}
        for name, service in list(self.running.items()):
            if service.process.poll() is None:
                service.process.send_signal(signal.SIGTERM)
            try:
                codes[name] = service.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                service.process.kill()
                codes[name] = service.process.wait()
        self.running.clear()
        return codes


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    procs = Processes(tmp_path)
    yield procs
    procs.stop_all()


async def engine_stats(address: str) -> signals_pb2.GetEngineStatsResponse:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = signals_pb2_grpc.SignalEngineStub(channel)
        return await stub.GetEngineStats(signals_pb2.GetEngineStatsRequest(), timeout=5)


async def generate(address: str) -> set[str]:
    """Force signals for the test's symbols; the ids of the newly published ones."""
    async with grpc.aio.insecure_channel(address) as channel:
        stub = signals_pb2_grpc.SignalEngineStub(channel)
        reply = await stub.GenerateSignals(
            signals_pb2.GenerateSignalsRequest(symbols=ASKED, force=True), timeout=15
        )
    assert {s.symbol for s in reply.signals} == set(ASKED)
    return {s.signal_id for s in reply.signals if not s.reused and not s.stale}


async def stored_ids(address: str) -> list[str]:
    """Every stored signal id of the test's symbols (duplicates would show twice)."""
    ids: list[str] = []
    token = ""
    async with grpc.aio.insecure_channel(address) as channel:
        stub = tracker_pb2_grpc.TrackerStub(channel)
        while True:
            page = await stub.QuerySignals(
                tracker_pb2.QuerySignalsRequest(
                    filter=tracker_pb2.SignalFilter(symbols=ASKED), page_size=1000, page_token=token
                ),
                timeout=5,
            )
            ids.extend(t.signal.signal_id for t in page.signals)
            token = page.next_page_token
            if not token:
                return ids


async def drained(address: str, within: float = 30.0) -> None:
    async with asyncio.timeout(within):
        while (await engine_stats(address)).outbox_depth:  # noqa: ASYNC110 - another process
            await asyncio.sleep(0.2)


def waiting_on_disk(outbox_dir: Path) -> set[str]:
    with sqlite3.connect(outbox_dir / "outbox.sqlite3") as db:
        return {row[0] for row in db.execute("SELECT signal_id FROM outbox")}


def metric(admin_port: int, name: str) -> float:
    with urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/metrics", timeout=5) as reply:
        for line in reply.read().decode().splitlines():
            if line.startswith(f"{name} "):
                return float(line.split()[1])
    raise AssertionError(f"{name} not exported")


@pytest_asyncio.fixture
async def gateway(processes: Processes) -> AsyncIterator[Processes]:
    processes.env.update(
        {
            "MARKET_GATEWAY_ADDR": processes.address("gateway"),
            "TRACKER_ADDR": processes.address("tracker"),
            "DATABASE_URL": f"sqlite:///{processes.workdir / 'tracker.db'}",
        }
    )
    processes.start("gateway", "market-gateway")
    await processes.serving("gateway", "market-gateway")
    yield processes


@pytest.mark.asyncio
async def test_signals_survive_a_killed_tracker_and_a_killed_engine_exactly_once(
    gateway: Processes,
) -> None:
    procs = gateway
    outbox_dir = procs.workdir / "outbox"
    engine_env = {
        "SYMBOLS": "AAPL,MSFT",
        "CYCLE_SECONDS": "3600",
        "ENGINE_OUTBOX_DIR": str(outbox_dir),
        "ENGINE_DELIVERY_MAX_BACKOFF_SECONDS": "0.5",
        "TRACKER_DEADLINE_SECONDS": "1",
    }
    engine = procs.start("engine", "signal-engine", **engine_env)
    await procs.serving("engine", "signal-engine")
    seen: set[str] = set()

    # 1. The tracker has never been up: signals wait in the outbox on disk.
    for _ in range(2):
        seen |= await generate(engine.address)
    assert seen
    depth = (await engine_stats(engine.address)).outbox_depth
    assert depth >= len(seen)
    assert metric(engine.admin_port, "argo_signal_engine_outbox_depth") == depth

    # 2. SIGKILL the engine: what it published is on disk; a new process picks it up.
    procs.kill("engine")
    assert seen <= waiting_on_disk(outbox_dir)
    engine = procs.start("engine", "signal-engine", **engine_env)
    await procs.serving("engine", "signal-engine")
    assert (await engine_stats(engine.address)).outbox_depth >= depth
    seen |= await generate(engine.address)

    # 3. The tracker comes up: everything arrives.
    tracker = procs.start("tracker", "tracker")
    await procs.serving("tracker", "tracker")
    await drained(engine.address)
    stored = await stored_ids(tracker.address)
    assert sorted(stored) == sorted(seen)  # all of them, each once, nothing else

    # 4. SIGKILL the tracker: new signals wait again, then arrive after its restart.
    procs.kill("tracker")
    fresh = await generate(engine.address)
    assert fresh and (await engine_stats(engine.address)).outbox_depth >= len(fresh)
    seen |= fresh
    tracker = procs.start("tracker", "tracker")
    await procs.serving("tracker", "tracker")
    await drained(engine.address)
    stored = await stored_ids(tracker.address)
    assert sorted(stored) == sorted(seen)
    stats = await engine_stats(engine.address)
    assert stats.outbox_refused_total == 0 and stats.delivered_total >= len(fresh)
    assert metric(engine.admin_port, "argo_signal_engine_outbox_depth") == 0
    codes = procs.stop_all()
    assert codes == {"gateway": 0, "engine": 0, "tracker": 0}, codes
