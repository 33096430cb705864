"""The two-tier cache over a Redis server of our own that is stopped and restarted mid-run:
no caller sees an error, L1 keeps serving, and L2 use resumes by itself."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time
from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio
from prometheus_client import REGISTRY
from redis.asyncio import Redis

from resilience import BreakerConfig, CacheStatus, Ttl, TwoTierCache
from tests.conftest import free_port

pytestmark = pytest.mark.integration


class RedisServer:
    """`redis-server` on a spare port, as a child process we can stop and start again."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail(
                "redis-server is not installed; install it with: apt-get install redis-server"
            )
        self.binary = binary
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            ping = subprocess.run(
                ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True
            )
            if ping.stdout.strip() == "PONG":
                return
            time.sleep(0.05)
        pytest.fail(f"redis-server on port {self.port} did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def server() -> Iterator[RedisServer]:
    srv = RedisServer()
    srv.start()
    yield srv
    srv.stop()


@pytest_asyncio.fixture
async def client(server: RedisServer) -> AsyncIterator[Redis]:
    redis = Redis(
        host="127.0.0.1", port=server.port, socket_timeout=0.25, socket_connect_timeout=0.25
    )
    yield redis
    await redis.aclose()


def l2_up(name: str) -> float | None:
    return REGISTRY.get_sample_value("argo_resilience_cache_l2_up", {"cache": name})


@pytest.mark.asyncio
async def test_redis_stopped_and_restarted_under_the_cache(
    server: RedisServer, client: Redis
) -> None:
    breaker = BreakerConfig.consecutive(
        failure_threshold=1,
        success_threshold=1,
        wait_duration_in_open_state=0.1,
        wait_duration_multiplier=2.0,
        max_wait_duration_in_open_state=0.4,
    )
    cache = TwoTierCache("outage", ttl=Ttl(30.0), redis=client, l2_breaker=breaker)
    loads = 0

    async def load(symbol: str) -> dict[str, object]:
        nonlocal loads
        loads += 1
        return {"symbol": symbol, "price": 100.0 + loads}

    for symbol in ("AAPL", "MSFT"):
        await cache.get_or_load(symbol, lambda s=symbol: load(s))
    assert await client.exists("argo:cache:outage:AAPL") == 1

    server.stop()
    errors: list[BaseException] = []
    started = time.monotonic()
    while time.monotonic() - started < 1.0:
        for symbol in ("AAPL", "MSFT", "NVDA", "TSLA"):
            try:
                result = await cache.get_or_load(symbol, lambda s=symbol: load(s))
                assert result.value["symbol"] == symbol
            except Exception as e:  # the point: there must be none
                errors.append(e)
        await asyncio.sleep(0.01)
    assert errors == []
    assert (await cache.get_or_load("AAPL", lambda: load("AAPL"))).status is CacheStatus.HIT
    assert l2_up("outage") == 0

    server.start()
    resumed_at = time.monotonic()
    while time.monotonic() - resumed_at < 5.0:
        await cache.set("after-restart", {"price": 1.0})
        if await client.exists("argo:cache:outage:after-restart"):
            break
        await asyncio.sleep(0.05)
    assert await client.exists("argo:cache:outage:after-restart") == 1
    assert l2_up("outage") == 1

    replica = TwoTierCache("outage", ttl=Ttl(30.0), redis=client)
    shared = await replica.get_or_load("after-restart", lambda: load("never"))
    assert (shared.tier, shared.value) == ("l2", {"price": 1.0})
    await cache.aclose()
