"""One running suite shared by the load tests: the three services as real processes (tests/
e2e/suite.py), the tracker on the real PostgreSQL in a schema of its own (created for the
session, seeded with resolved outcomes so GetCalibration has a fit, dropped at the end),
and the provider simulator as the gateway's only AI provider (DeepSeek, no quota, fast) so
GetSentiment answers. Market data is the gateway's synthetic market, offline.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import grpc
import pytest
import yaml

from argo.marketdata.v1 import marketdata_pb2, marketdata_pb2_grpc
from argo.tracker.v1 import tracker_pb2, tracker_pb2_grpc
from tests.e2e.suite import Suite
from tests.load.universe import ENGINE_SYMBOLS, SEEDED, UNIVERSE
from tests.unit.tracker.factories import make_signal
from tracker.adapters.postgres_store import PostgresSignalStore
from tracker.domain import Outcome, OutcomeResolution

SIM_CONFIG = {
    "market": {"universe": ["BTC-USD"], "warm_days": 5},
    "defaults": {
        "latency": {"median_ms": 20, "p99_ms": 80, "max_ms": 500},
        "faults": {"error_rate": 0.0},
    },
    "providers": {"deepseek": {"latency": {"median_ms": 20, "p99_ms": 80, "max_ms": 500}}},
}
ARGO_CONFIG = {
    # DeepSeek documents no rate limit; the gateway's own default (5/s) would refuse the
    # first misses of many distinct symbols, which is not what this load is about.
    "market_gateway": {"providers": {"deepseek": {"rate_per_second": 1000, "burst": 1000}}},
    "signal_engine": {},
    "tracker": {"calibration_min_samples": 50, "analytics_refresh_seconds": 2.0},
}
SEED_SIGNALS = 400  # over the last 20 days; three quarters resolved WIN or LOSS


@pytest.fixture(scope="session")
def load_suite(postgres_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Suite]:
    workdir = tmp_path_factory.mktemp("load")
    sim = _start_simulator(workdir)
    schema = f"load_{uuid.uuid4().hex[:12]}"
    database_url = f"{postgres_url}{'&' if '?' in postgres_url else '?'}search_path={schema}"
    suite: Suite | None = None
    try:
        ai = _simulator_env(workdir / "sim.env", sim)
        asyncio.run(_seed(postgres_url, schema, database_url))
        config = workdir / "argo.yaml"
        config.write_text(yaml.safe_dump(ARGO_CONFIG))
        suite = Suite(
            workdir,
            extra_env={
                **ai,
                "DATABASE_URL": database_url,
                "ARGO_CONFIG": str(config),
                "SYMBOLS": ",".join(ENGINE_SYMBOLS),
                "LOG_LEVEL": "warning",
            },
        )
        suite.start()
        asyncio.run(_ready(suite))
        yield suite
    finally:
        codes = suite.stop() if suite is not None else {}
        sim.terminate()
        sim.wait(timeout=20)
        asyncio.run(_drop(postgres_url, schema))
    assert set(codes.values()) == {0}, codes


def _start_simulator(workdir: Path) -> subprocess.Popen[bytes]:
    (workdir / "sim.yaml").write_text(yaml.safe_dump(SIM_CONFIG))
    with (workdir / "sim.log").open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "tools.provider_sim", "--port", "0"]
            + ["--config", str(workdir / "sim.yaml"), "--env-file", str(workdir / "sim.env")],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=workdir,
        )


def _simulator_env(env_file: Path, sim: subprocess.Popen[bytes]) -> dict[str, str]:
    """DeepSeek's URL and key from the simulator's env file (waits up to 30 s for it)."""
    deadline = time.monotonic() + 30
    while not env_file.exists() or not env_file.read_text().endswith("\n"):
        if sim.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"provider simulator did not start (exit {sim.poll()})")
        time.sleep(0.1)
    env = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
    return {k: env[k] for k in ("DEEPSEEK_BASE_URL", "DEEPSEEK_API_KEY")}


async def _seed(postgres_url: str, schema: str, database_url: str) -> None:
    admin = await asyncpg.connect(postgres_url, timeout=5)
    try:
        await admin.execute(f'CREATE SCHEMA "{schema}"')
    finally:
        await admin.close()
    store = PostgresSignalStore(database_url, pool_max=2)
    try:
        await store.migrate()
        now = datetime.now(UTC)
        signals = []
        for i in range(SEED_SIGNALS):
            create = now - timedelta(days=20) + timedelta(minutes=71 * i)
            confidence = 20.0 + (i * 37) % 80
            signals.append(
                make_signal(
                    symbol=SEEDED[i % len(SEEDED)],
                    confidence=confidence,
                    raw_confidence=confidence,
                    create_time=create,
                    expire_time=create + timedelta(hours=2),
                )
            )
        await store.record(signals, record_time=now)
        for i, signal in enumerate(signals):
            if i % 4 == 3:
                continue  # still open
            won = (i * 7919) % 100 < signal.confidence  # confident calls win more often
            await store.resolve(
                OutcomeResolution(
                    signal_id=signal.signal_id,
                    outcome=Outcome.WIN if won else Outcome.LOSS,
                    exit_price=signal.target_price if won else signal.stop_price,
                    exit_time=signal.create_time + timedelta(hours=1),
                    pnl_percent=2.0 if won else -1.5,
                )
            )
    finally:
        await store.aclose()


async def _drop(postgres_url: str, schema: str) -> None:
    admin = await asyncpg.connect(postgres_url, timeout=5)
    try:
        await admin.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    finally:
        await admin.close()


async def _ready(suite: Suite) -> None:
    """Every service SERVING, every symbol's history built, and the tracker's first
    calibration fitted (its refit loop runs at start)."""
    async with asyncio.timeout(60):
        await suite.wait_serving()
    async with grpc.aio.insecure_channel(suite.services["market-gateway"].address) as channel:
        await _touch_every_symbol(marketdata_pb2_grpc.MarketGatewayStub(channel))
    async with grpc.aio.insecure_channel(suite.services["tracker"].address) as channel:
        stub = tracker_pb2_grpc.TrackerStub(channel)
        async with asyncio.timeout(30):
            while True:
                try:
                    await stub.GetCalibration(tracker_pb2.GetCalibrationRequest(), timeout=5)
                    return
                except grpc.aio.AioRpcError as e:
                    if e.code() is not grpc.StatusCode.NOT_FOUND:
                        raise
                await asyncio.sleep(0.2)


async def _touch_every_symbol(stub: marketdata_pb2_grpc.MarketGatewayStub) -> None:
    """One GetBars per symbol: the synthetic market builds a symbol's price history on
    first use, a one-time cost that belongs to start-up, not to any RPC's load."""
    gate = asyncio.Semaphore(8)

    async def touch(symbol: str) -> None:
        async with gate:
            request = marketdata_pb2.GetBarsRequest(
                symbol=symbol, timeframe=marketdata_pb2.TIMEFRAME_ONE_DAY, limit=1
            )
            await stub.GetBars(request, timeout=30)

    async with asyncio.timeout(60):
        await asyncio.gather(*(touch(s) for s in UNIVERSE))
