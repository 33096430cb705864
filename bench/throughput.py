"""GetQuotes throughput (warm, 64 concurrent callers) next to a bare grpc.aio echo server,
all measured by the same closed-loop client process (bench/load.py) in the same run, in
alternating rounds (best round of each). The echo server runs twice: on the standard
asyncio loop (`echo`, the target's reference) and on uvloop (`echo_uvloop`, the loop the
services run on), so the like-for-like ratio is published too.

The signal engine and the tracker are stopped first, so the gateway serves only the load
(its caches and streams stay warm). The services run without an exporter, so the gateway
records no span for these untraced calls (observability.tracing). Then
`restart_recording` restarts it recording every span (still exporting none, so this is a
lower bound of what an exporter costs), and it is measured as many rounds again, after one
uncounted round that warms its caches and streams: `gateway_recorded`. These rounds come
after the others, not between them. Should the restart fail, the error is kept in the
results and the other figures stand.

Server CPU share = the server's CPU seconds over the window / wall seconds (1.0 = one core
busy); the client's is reported too, because on a 2-core machine a client that saturates
its core caps what any server can show.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from bench import procstat
from bench.cluster import Cluster, Process, StartupError, spawn
from bench.scenario import base_env

CALLERS = 64
ECHOES = {"echo": "asyncio", "echo_uvloop": "uvloop"}  # result key -> the echo server's loop
ROUNDS = 2
_PORT_LINE = re.compile(r"^echo server on (\d+)$", re.M)


async def compare(
    gateway_address: str,
    symbols: Sequence[str],
    seconds: float,
    cluster: Cluster,
    anchor: str,
    rounds: int = ROUNDS,
    restart_recording: Callable[[], Awaitable[Process]] | None = None,
) -> dict[str, Any]:
    """Alternate gateway and echo rounds, then the gateway recording spans (if asked); each
    server's best round is its figure (the least disturbed by whatever else the machine
    runs), every round is kept."""
    gateway = cluster.processes["market-gateway"]
    env = base_env(os.environ, anchor)
    echoes = {
        kind: spawn(
            kind.replace("_", "-") + "-server",
            ["-m", "bench.echo_server", "--loop", loop],
            env,
            cluster.logs,
            cluster.workdir,
        )
        for kind, loop in ECHOES.items()
    }
    runs: dict[str, list[dict[str, Any]]] = {"gateway": [], **{kind: [] for kind in ECHOES}}
    failed: dict[str, str] = {}
    try:
        addresses = {kind: f"127.0.0.1:{await _echo_port(p)}" for kind, p in echoes.items()}
        for _ in range(rounds):
            runs["gateway"].append(
                await _measure(gateway_address, "gateway", symbols, seconds, gateway)
            )
            for kind, echo in echoes.items():
                runs[kind].append(await _measure(addresses[kind], "echo", symbols, seconds, echo))
    finally:
        for echo in echoes.values():
            echo.popen.terminate()
        for echo in echoes.values():
            await asyncio.to_thread(echo.popen.wait, 10)
    if restart_recording is not None:
        try:
            runs["gateway_recorded"] = await _recording(restart_recording, symbols, seconds, rounds)
        except (StartupError, OSError) as e:
            failed["gateway_recorded_error"] = str(e)[-2000:]
    results: dict[str, Any] = {
        kind: max(found, key=lambda r: float(r["calls_per_second"])) for kind, found in runs.items()
    }
    return {**results, **_ratios(results), **failed, "rounds": runs}


async def _recording(
    restart: Callable[[], Awaitable[Process]], symbols: Sequence[str], seconds: float, rounds: int
) -> list[dict[str, Any]]:
    """The restarted gateway's rounds, after one uncounted warm-up round."""
    recording = await restart()
    await _measure(recording.address, "gateway", symbols, seconds / 2, recording)
    return [
        await _measure(recording.address, "gateway", symbols, seconds, recording)
        for _ in range(rounds)
    ]


def _ratios(best: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    """Each gateway figure over each echo server's (0.0 when an echo did nothing)."""
    ratios = {}
    for gateway in ("gateway", "gateway_recorded"):
        for echo in ECHOES:
            if gateway in best and echo in best:
                rate = float(best[echo]["calls_per_second"])
                mine = float(best[gateway]["calls_per_second"])
                ratios[f"{gateway}_vs_{echo}"] = mine / rate if rate else 0.0
    return ratios


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
