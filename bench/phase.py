"""One phase: fresh simulator, Redis database, PostgreSQL database and services; watch the
engine's own cycles; collect every figure; stop everything.

Cycle latency is the engine's own measurement of its background cycle (CYCLE_SECONDS=5),
cycle by cycle: the value it observes in argo_signal_generation_duration_seconds, which
bench.clocked also writes to the phase's cycle record (bench/cycle_record.py). The harness
polls the engine's /api/v1/health after each expected cycle end; at each new
cycles_total it reads the record's first cycles_total durations and checks them against
the same reply's avg_signal_generation_time, so cycles that end between two reads keep
their own durations, the same in every mode. Upstream calls are attributed to the cycle
during which the simulator counted them (read at each cycle's detection).
"""

from __future__ import annotations

import asyncio
import functools
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from bench import cycle_record, databases, procstat, throughput
from bench.cluster import SERVICES, Cluster, Process, free_port, get_json, get_text
from bench.collect import Detection, Observation, collect
from bench.scenario import (
    CYCLE_SECONDS,
    Databases,
    Phase,
    base_env,
    clock_anchor,
    service_envs,
    sim_config,
)

STALL_SECONDS = 300.0  # no new cycle for this long fails the phase
MAX_POLL_SECONDS = 0.5
Status = Callable[[str], None]


class PhaseError(RuntimeError):
    pass


async def run_phase(
    phase: Phase,
    dbs: Databases,
    logs_root: Path,
    *,
    status: Status,
    on_cycle: Callable[[int], None],
) -> dict[str, Any]:
    logs = logs_root / phase.name
    logs.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f"argo-bench-{phase.name}-") as tmp:
        cluster = Cluster(logs=logs, workdir=Path(tmp))
        try:
            return await _run(phase, dbs, cluster, status, on_cycle)
        finally:
            status(f"{phase.name}: stopping")
            await asyncio.to_thread(cluster.stop)


async def _run(
    phase: Phase, dbs: Databases, cluster: Cluster, status: Status, on_cycle: Callable[[int], None]
) -> dict[str, Any]:
    status(f"{phase.name}: resetting Redis db and PostgreSQL database")
    await databases.reset(dbs)
    sim_yaml = cluster.workdir / "sim.yaml"
    sim_yaml.write_text(yaml.safe_dump(sim_config(phase)))
    status(f"{phase.name}: starting provider simulator ({len(phase.symbols)} symbols)")
    started = time.monotonic()
    anchor = clock_anchor(time.time())
    sim_env = await cluster.start_simulator(sim_yaml, base_env(os.environ, anchor))
    ports = {name: (free_port(), free_port()) for name in SERVICES}
    addresses = {name: f"127.0.0.1:{grpc}" for name, (grpc, _) in ports.items()}
    envs = service_envs(phase, sim_env, dbs, cluster.workdir, addresses, anchor)
    for name in ("market-gateway", "tracker"):
        status(f"{phase.name}: starting {name}")
        cluster.start_service(name, envs[name], ports[name])
        await cluster.wait_serving(name)
    async with aiohttp.ClientSession() as http:
        gateway = cluster.processes["market-gateway"]
        observation = Observation(
            start_counters=await get_json(http, f"{cluster.sim_url}/counters"),
            start_metrics=await get_text(http, f"{gateway.admin_url}/metrics"),
        )
        status(f"{phase.name}: starting signal-engine")
        record = cluster.workdir / "engine-cycles.txt"
        engine_env = {**envs["signal-engine"], cycle_record.RECORD_VARIABLE: str(record)}
        engine = cluster.start_service("signal-engine", engine_env, ports["signal-engine"])
        startup = time.monotonic() - started
        status(f"{phase.name}: {phase.mode}, {len(phase.symbols)} symbols, 5 s cycles")
        await _observe(phase, cluster, engine, record, http, observation, on_cycle)
        result = await collect(phase, cluster, http, observation)
        result["startup_seconds"] = round(startup, 2)
    if phase.throughput_seconds > 0:
        status(f"{phase.name}: GetQuotes throughput vs a bare grpc.aio echo server")
        await asyncio.to_thread(cluster.stop, "signal-engine", "tracker")
        result["throughput"] = await throughput.compare(
            gateway.address,
            phase.symbols,
            phase.throughput_seconds,
            cluster,
            anchor,
            rounds=phase.throughput_rounds,
            restart_recording=functools.partial(
                _restart_recording_spans, cluster, envs["market-gateway"], ports["market-gateway"]
            ),
        )
    return result


async def _restart_recording_spans(
    cluster: Cluster, env: dict[str, str], ports: tuple[int, int]
) -> Process:
    """The gateway again, on its ports, recording every span (none is exported: the phase
    has no exporter) and logging to its own file."""
    await asyncio.to_thread(cluster.stop, "market-gateway")
    recording_env = {**env, "OTEL_TRACES_SAMPLER": "parentbased_always_on"}
    log_name = "market-gateway-recording-spans"
    recording = cluster.start_service("market-gateway", recording_env, ports, log_name=log_name)
    await cluster.wait_serving("market-gateway")
    return recording


async def _observe(
    phase: Phase,
    cluster: Cluster,
    engine: Process,
    record: Path,
    http: aiohttp.ClientSession,
    observation: Observation,
    on_cycle: Callable[[int], None],
) -> None:
    """Poll the engine's health right after each expected cycle end until `phase.cycles`."""
    seen = 0
    last_progress = started = time.monotonic()
    interval = 0.05
    # the first cycle is always waited for; then cycles until either bound
    while seen < phase.cycles and not (seen and time.monotonic() - started > phase.max_seconds):
        engine.check_alive()
        observation.polls += 1
        observation.warm_polls += 1 if seen else 0
        try:
            body = await get_json(http, f"{engine.admin_url}/api/v1/health")
        except aiohttp.ClientError:
            body = None  # the admin port is not up yet
        performance = body["services"]["performance"] if body else {}
        cycles = int(performance.get("cycles_total", 0))
        if cycles > seen:
            counters = await get_json(http, f"{cluster.sim_url}/counters")
            mean = float(performance["avg_signal_generation_time"])
            try:
                durations = cycle_record.read(record, cycles, mean)
            except cycle_record.CycleRecordError as e:
                raise PhaseError(f"{e}:\n{engine.log_tail()}") from e
            detection = Detection(cycles, mean, performance, counters, durations, _cpu(cluster))
            observation.detections.append(detection)
            if len(observation.detections) == 1:
                gateway = cluster.processes["market-gateway"]
                observation.warm_metrics = await get_text(http, f"{gateway.admin_url}/metrics")
            last = durations[-1]
            seen = cycles
            last_progress = time.monotonic()
            on_cycle(cycles)
            # The next cycle starts CYCLE_SECONDS after this one started (at once if this
            # one overran) and likely lasts about as long: sleep until 80% of that has
            # passed, but never past 4 s into it (so a short cycle after a long one is
            # still seen before the one after it starts), then poll, backing off by 20%
            # a miss: a few reads per cycle in either mode.
            interval = min(MAX_POLL_SECONDS, max(0.01, last / 20))
            ahead = min(0.8 * last, CYCLE_SECONDS - 1.0)
            await asyncio.sleep(max(0.0, CYCLE_SECONDS - last) + ahead - 0.02)
            continue
        if time.monotonic() - last_progress > STALL_SECONDS:
            raise PhaseError(f"no engine cycle for {STALL_SECONDS:.0f} s:\n{engine.log_tail()}")
        await asyncio.sleep(interval)
        interval = min(MAX_POLL_SECONDS, interval * 1.2)


def _cpu(cluster: Cluster) -> dict[str, float]:
    readings: dict[str, float] = {}
    for name, process in cluster.processes.items():
        try:
            readings[name] = procstat.sample(process.pid).cpu_seconds
        except FileNotFoundError:
            continue
    return readings
