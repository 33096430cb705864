"""Every market-data provider down (the provider simulator refuses connections, no synthetic
fallback): the engine keeps serving its last signals marked stale, and serves fresh ones
again by itself once the providers return."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.chaos.pipeline_support import (
    Pipeline,
    engine_stats,
    latest,
    pipeline,  # noqa: F401 - fixture
    wait_until,
)
from tools.provider_sim.defaults import PROVIDERS

pytestmark = [pytest.mark.chaos, pytest.mark.e2e]
SYMBOLS = ["BTC-USD", "ETH-USD", "SOL-USD"]  # crypto: polled every cycle on any day
CYCLE = 1.0
SIM_CONFIG = {
    "market": {"universe": SYMBOLS},
    "defaults": {"latency": {"median_ms": 5, "p99_ms": 20, "max_ms": 100}},
    "providers": {p: {"faults": {"error_rate": 0.0}} for p in PROVIDERS},
}
GATEWAY_CONFIG = """\
market_gateway:
  routing: {synthetic_fallback: false}
  resilience: {breaker_open_seconds: 1.0}
signal_engine:
  quiet_poll_multiplier: 1.0
tracker: {}
"""


class Simulator:
    def __init__(self, workdir: Path) -> None:
        self.env_file = workdir / "sim.env"
        config = workdir / "sim.json"  # JSON is YAML
        config.write_text(json.dumps(SIM_CONFIG))
        self.log = (workdir / "sim.log").open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tools.provider_sim", "--port", "0", "--config", str(config),
             "--env-file", str(self.env_file)],
            env={**os.environ, "ARGO_CLOCK_START": ""}, cwd=workdir,
            stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip

    def env(self) -> dict[str, str]:
        lines = self.env_file.read_text().splitlines()
        return dict(line.split("=", 1) for line in lines if "=" in line)

    def admin(self, path: str, body: object | None = None) -> object:
        log = (self.env_file.parent / "sim.log").read_text()  # the shared port stays open
        base = log.split("(admin: ", 1)[1].split(")", 1)[0].removesuffix("/_sim")
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{base}/_sim/{path}", data=data, method="POST" if data else "GET"
        )  # noqa: E501
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=5) as reply:
            return json.loads(reply.read())

    async def all_down(self, down: bool) -> None:
        patch = {"providers": {p: {"faults": {"down": down}} for p in PROVIDERS}}
        await asyncio.to_thread(self.admin, "config", patch)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


@pytest_asyncio.fixture
async def simulator(pipeline: Pipeline) -> AsyncIterator[Simulator]:  # noqa: F811
    sim = Simulator(pipeline.workdir)

    async def warm() -> bool:
        if sim.process.poll() is not None:
            raise AssertionError(f"simulator exited: {(pipeline.workdir / 'sim.log').read_text()}")
        if "(admin: " not in (pipeline.workdir / "sim.log").read_text():
            return False  # printed after the env file is written
        return bool((await asyncio.to_thread(sim.admin, "health"))["warm"])  # type: ignore[index]

    try:
        await wait_until(warm, 30, "the provider simulator up and warm")
        yield sim
    finally:
        sim.stop()


@pytest.mark.asyncio
async def test_every_provider_down_serves_stale_signals_then_recovers_alone(
    pipeline: Pipeline,  # noqa: F811
    simulator: Simulator,
) -> None:
    """Failing would mean: during a provider outage callers get no signals, or yesterday's
    signals presented as current (trading on them as if fresh), or the engine stays stale
    after the providers return until someone restarts it."""
    procs = pipeline
    config = procs.workdir / "argo.yaml"
    config.write_text(GATEWAY_CONFIG)
    procs.wire(
        SYMBOLS=",".join(SYMBOLS),
        CYCLE_SECONDS=str(CYCLE),
        ARGO_CONFIG=str(config),
        DATABASE_URL=f"sqlite:///{procs.workdir / 'tracker.db'}",
        # Real time everywhere: shifted clocks start at each process's own start, so the
        # simulator's quotes would be seconds "in the future" for the gateway.
        ARGO_CLOCK_START="",
    )
    procs.start("gateway", "market-gateway", **simulator.env())
    procs.start("tracker", "tracker")
    await procs.serving("gateway", "market-gateway")
    await procs.serving("tracker", "tracker")
    engine = procs.start("engine", "signal-engine")
    await procs.serving("engine", "signal-engine")

    async def every(stale: bool) -> bool:
        signals = await latest(engine.address, SYMBOLS)
        return len(signals) == len(SYMBOLS) and all(s.stale is stale for s in signals)

    await wait_until(lambda: every(False), 20, "a fresh signal for every symbol")
    before = {s.symbol: s for s in await latest(engine.address, SYMBOLS)}
    assert all(s.lineage and s.entry_price > 0 for s in before.values())

    await simulator.all_down(True)
    await wait_until(lambda: every(True), 15, "every signal marked stale")
    stale = {s.symbol: s for s in await latest(engine.address, SYMBOLS)}
    for symbol, signal in stale.items():  # the last signal itself, flagged
        assert signal.signal_id == before[symbol].signal_id or signal.stale
    cycles = (await engine_stats(engine.address)).cycles_total

    await simulator.all_down(False)
    await wait_until(lambda: every(False), 15, "fresh signals again without a restart")
    assert (await engine_stats(engine.address)).cycles_total > cycles
    assert engine.process.poll() is None and procs.running["gateway"].process.poll() is None
