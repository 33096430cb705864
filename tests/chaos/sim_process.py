"""The provider simulator as a real process (`python -m tools.provider_sim`), for chaos tests.

It is started through `bench.clocked`, like every process of a chaos run, so all their
clocks map the same wall time to the same instant inside an NYSE session (the gateway
rejects quotes more than 2 s "in the future"). Faults are switched through its admin API
(`POST /_sim/config`), and what reached it is read from `GET /_sim/counters`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import yaml

from bench.clocked import ANCHOR_VARIABLE

REPO = Path(__file__).resolve().parents[2]
SESSION_START = "2026-11-17T15:30:00+00:00"  # Tuesday 10:30 New York: the market is open
ANCHOR_DATE = "2026-11-17"
UNIVERSE = ["AAPL", "MSFT", "NVDA", "TSLA", "BTC-USD", "ETH-USD"]
BASE_CONFIG: dict[str, Any] = {
    "market": {"universe": UNIVERSE, "warm_days": 60},
    "defaults": {"latency": {"median_ms": 2, "p99_ms": 10}, "stream": {"interval_ms": 100}},
    "providers": {"yahoo": {"null_gap_rate": 0.0}},
}
_TOUCHED = ("polygon", "alpaca", "alphavantage", "yahoo")


def clock_anchor() -> str:
    """`BENCH_CLOCK_ANCHOR` for processes started now: wall time now is SESSION_START."""
    return f"{time.time()},{SESSION_START}"


def clocked_env(anchor: str) -> dict[str, str]:
    return {ANCHOR_VARIABLE: anchor, "SYNTHETIC_ANCHOR_DATE": ANCHOR_DATE, "SYNTHETIC_SEED": "42"}


@dataclass
class SimProcess:
    """A running simulator: its admin URL, the gateway variables, and its process."""

    process: subprocess.Popen[bytes]
    admin_url: str
    env: dict[str, str]
    log_path: Path

    @classmethod
    def start(cls, workdir: Path, anchor: str, timeout: float = 60.0) -> SimProcess:
        """Start it on free ports and wait (bounded) until it serves with a warm market."""
        config_path, env_path = workdir / "sim.yaml", workdir / "sim.env"
        log_path = workdir / "sim.log"
        config_path.write_text(yaml.safe_dump(BASE_CONFIG))
        argv = [sys.executable, "-m", "bench.clocked", "tools.provider_sim", "--port", "0"]
        argv += ["--config", str(config_path), "--env-file", str(env_path)]
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                argv,
                env={**os.environ, **clocked_env(anchor)},
                stdout=log_file,
                stderr=subprocess.STDOUT,
                cwd=REPO,
            )
        sim = cls(process, "", {}, log_path)
        deadline = time.monotonic() + timeout
        while not sim.admin_url:
            sim._fail_if_exited()
            if time.monotonic() > deadline:
                raise TimeoutError(f"simulator did not start: {sim.log_text()[-2000:]}")
            for line in sim.log_text().splitlines():
                if "(admin: " in line:
                    sim.admin_url = line.split("(admin: ", 1)[1].rstrip(")").strip()
            time.sleep(0.05)
        sim.env = dict(
            line.split("=", 1) for line in env_path.read_text().splitlines() if "=" in line
        )
        while not httpx.get(f"{sim.admin_url}/health", timeout=5).json()["warm"]:
            sim._fail_if_exited()
            if time.monotonic() > deadline:
                raise TimeoutError("simulator market history did not warm in time")
            time.sleep(0.1)
        return sim

    def gateway_env(self, providers: tuple[str, ...]) -> dict[str, str]:
        """The variables that point a gateway at these providers (and only these)."""
        env = {k: v for k, v in self.env.items() if k.split("_")[0].lower() in providers}
        if "yahoo" in providers:
            env["YAHOO_ENABLED"] = "true"
        return env

    async def configure(self, patch: Mapping[str, Any]) -> None:
        async with httpx.AsyncClient(timeout=5) as client:
            reply = await client.post(f"{self.admin_url}/config", json=patch)
        assert reply.status_code == 200, reply.text

    async def heal(self) -> None:
        """Every fault and stream setting back to the base config; counters start over."""
        undo = {name: {"faults": None, "stream": None} for name in _TOUCHED}
        await self.configure({"providers": undo})
        async with httpx.AsyncClient(timeout=5) as client:
            (await client.post(f"{self.admin_url}/reset")).raise_for_status()

    async def counters(self) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=5) as client:
            reply = await client.get(f"{self.admin_url}/counters")
        reply.raise_for_status()
        found: dict[str, Any] = reply.json()
        return found

    async def calls(self, provider: str) -> int:
        return int((await self.counters())["providers"].get(provider, {}).get("calls", 0))

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def _fail_if_exited(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"simulator exited: {self.log_text()[-2000:]}")
