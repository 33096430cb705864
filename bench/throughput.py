"""GetQuotes throughput (warm, 64 concurrent callers) next to a bare grpc.aio echo server,
both measured by the same closed-loop client process (bench/load.py) in the same run, in
alternating rounds (best round of each).

The signal engine and the tracker are stopped first, so the gateway serves only the load
(its caches and streams stay warm). Server CPU share = the server's CPU seconds over the
window / wall seconds (1.0 = one core busy); the client's is reported too, because on a
2-core machine a client that saturates its core caps what any server can show.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import time
from collections.abc import Sequence
from typing import Any

from bench import procstat
from bench.cluster import Cluster, Process, StartupError, spawn
from bench.scenario import base_env

CALLERS = 64
ROUNDS = 2
_PORT_LINE = re.compile(r"^echo server on (\d+)$", re.M)


async def compare(
    gateway_address: str,
    symbols: Sequence[str],
    seconds: float,
    cluster: Cluster,
    anchor: str,
    rounds: int = ROUNDS,
) -> dict[str, Any]:
    """Alternate gateway and echo rounds; each side's best round is its figure (the least
    disturbed by whatever else the machine runs), every round is kept."""
    gateway = cluster.processes["market-gateway"]
    env = base_env(os.environ, anchor)
    echo = spawn("echo-server", ["-m", "bench.echo_server"], env, cluster.logs, cluster.workdir)
    runs: dict[str, list[dict[str, Any]]] = {"gateway": [], "echo": []}
    try:
        echo_address = f"127.0.0.1:{await _echo_port(echo)}"
        for _ in range(rounds):
            runs["gateway"].append(
                await _measure(gateway_address, "gateway", symbols, seconds, gateway)
            )
            runs["echo"].append(await _measure(echo_address, "echo", symbols, seconds, echo))
    finally:
        echo.popen.terminate()
        await asyncio.to_thread(echo.popen.wait, 10)
    results: dict[str, Any] = {
        kind: max(found, key=lambda r: float(r["calls_per_second"])) for kind, found in runs.items()
    }
    results["rounds"] = runs
    echo_rate = results["echo"]["calls_per_second"]
    results["gateway_vs_echo"] = (
        results["gateway"]["calls_per_second"] / echo_rate if echo_rate else 0.0
    )
    return results


async def _measure(
    target: str, kind: str, symbols: Sequence[str], seconds: float, server: Process
) -> dict[str, Any]:
    args = ["-m", "bench.load", "--target", target, "--kind", kind, "--seconds", str(seconds)]
    args += ["--callers", str(CALLERS), "--symbols", ",".join(symbols)]
    cpu_before, wall_before = procstat.sample(server.pid).cpu_seconds, time.monotonic()
    process = await asyncio.create_subprocess_exec(
        sys.executable, *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    wall = time.monotonic() - wall_before
    cpu = procstat.sample(server.pid).cpu_seconds - cpu_before
    if process.returncode != 0:
        raise StartupError(f"load client against {kind} failed: {err.decode()[-2000:]}")
    result: dict[str, Any] = json.loads(out)
    result["server_cpu_share"] = cpu / wall  # includes the client's start-up and warm-up
    return result


async def _echo_port(echo: Process, within: float = 30.0) -> int:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        echo.check_alive()
        found = _PORT_LINE.search(echo.log_tail())
        if found:
            return int(found.group(1))
        await asyncio.sleep(0.05)
    raise StartupError(f"echo server did not start:\n{echo.log_tail()}")
