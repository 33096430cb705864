"""One phase: fresh simulator, Redis database, PostgreSQL database and services; watch the
engine's own cycles; collect every figure; stop everything.

Cycle latency is the engine's own measurement of its background cycle (CYCLE_SECONDS=5):
the harness polls the engine's /api/v1/health after each expected cycle end and turns
(cycles_total, avg_signal_generation_time) into each cycle's duration (the running sum
differenced), the same in every mode. Upstream calls are attributed to the cycle during
which the simulator counted them (read at each cycle's detection).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import yaml

from bench import databases, procstat, throughput
from bench.cluster import SERVICES, Cluster, Process, free_port, get_json, get_text
from bench.scenario import (
    CYCLE_SECONDS,
    Databases,
    Phase,
    base_env,
    clock_anchor,
    service_envs,
    sim_config,
)
from bench.stats import counters_diff, durations_from_means, label_values, metric_sum

STALL_SECONDS = 300.0  # no new cycle for this long fails the phase
MAX_POLL_SECONDS = 0.5
Status = Callable[[str], None]


class PhaseError(RuntimeError):
    pass


@dataclass
class Detection:
    """What was read right after the engine finished a cycle."""

    cycles: int
    mean_seconds: float
    performance: dict[str, Any]
    counters: dict[str, Any]
    cpu: dict[str, float] = field(default_factory=dict)


@dataclass
class Observation:
    start_counters: dict[str, Any]
    start_metrics: str
    detections: list[Detection] = field(default_factory=list)
    warm_metrics: str = ""  # gateway /metrics right after the first cycle
    polls: int = 0  # engine health reads (the harness's own load on the engine)
    warm_polls: int = 0  # ...of which after the first cycle


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
        engine = cluster.start_service(
            "signal-engine", envs["signal-engine"], ports["signal-engine"]
        )
        startup = time.monotonic() - started
        status(f"{phase.name}: {phase.mode}, {len(phase.symbols)} symbols, 5 s cycles")
        await _observe(phase, cluster, engine, http, observation, on_cycle)
        result = await _collect(phase, cluster, http, observation)
        result["startup_seconds"] = round(startup, 2)
    if phase.throughput_seconds > 0:
        status(f"{phase.name}: GetQuotes throughput vs a bare grpc.aio echo server")
        await asyncio.to_thread(cluster.stop, "signal-engine", "tracker")
        result["throughput"] = await throughput.compare(
            gateway.address, phase.symbols, phase.throughput_seconds, cluster, anchor
        )
    return result


async def _observe(
    phase: Phase,
    cluster: Cluster,
    engine: Process,
    http: aiohttp.ClientSession,
    observation: Observation,
    on_cycle: Callable[[int], None],
) -> None:
    """Poll the engine's health right after each expected cycle end until `phase.cycles`."""
    means: list[tuple[int, float]] = []
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
            detection = Detection(cycles, mean, performance, counters, _cpu(cluster))
            observation.detections.append(detection)
            if len(observation.detections) == 1:
                gateway = cluster.processes["market-gateway"]
                observation.warm_metrics = await get_text(http, f"{gateway.admin_url}/metrics")
            means.append((cycles, mean))
            last = durations_from_means(means)[-1]
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


async def _collect(
    phase: Phase, cluster: Cluster, http: aiohttp.ClientSession, observation: Observation
) -> dict[str, Any]:
    gateway = cluster.processes["market-gateway"]
    engine = cluster.processes["signal-engine"]
    end_metrics = await get_text(http, f"{gateway.admin_url}/metrics")
    engine_metrics = await get_text(http, f"{engine.admin_url}/metrics")
    gateway_health = await get_json(http, f"{gateway.admin_url}/api/v1/health")
    read_cost = await _health_read_cpu(http, engine)
    memory = {
        name: procstat.sample(process.pid).peak_rss_mb
        for name, process in cluster.processes.items()
    }
    detections = observation.detections
    first, last = detections[0], detections[-1]
    durations = durations_from_means([(d.cycles, d.mean_seconds) for d in detections])
    warm_cycles = last.cycles - first.cycles
    calls_by_cycle = _calls_by_cycle(observation)
    return {
        "phase": phase.name,
        "mode": phase.mode,
        "symbols": len(phase.symbols),
        "cycles": last.cycles,
        "cycle_seconds": durations,
        "calls_by_cycle": calls_by_cycle,
        "upstream_run": counters_diff(observation.start_counters, last.counters),
        "upstream_warm": counters_diff(first.counters, last.counters),
        "warm_cycles": warm_cycles,
        "health_polls_per_cycle": observation.polls / max(1, last.cycles),
        "harness_engine_cpu_ms_per_warm_cycle": (
            observation.warm_polls * read_cost * 1000 / warm_cycles if warm_cycles else 0.0
        ),
        "cache_run": _cache(observation.start_metrics, end_metrics),
        "cache_warm": _cache(observation.warm_metrics, end_metrics),
        "engine": {
            "run": _evaluations(last.performance),
            "warm": _evaluations(last.performance, first.performance),
            "evaluations": _labelled(engine_metrics, "argo_signal_engine_symbol_evaluations_total"),
            "polls_deferred": metric_sum(engine_metrics, "argo_signal_engine_polls_deferred_total"),
            "signals_published": last.performance.get("signals_published_total", 0),
            "outbox_depth": last.performance.get("outbox_depth", 0),
        },
        "gateway_performance": gateway_health["services"]["performance"],
        "cpu_seconds_per_cycle": {
            name: (last.cpu[name] - first.cpu[name]) / warm_cycles
            for name in last.cpu
            if name in first.cpu and warm_cycles > 0
        },
        "peak_rss_mb": memory,
    }


async def _health_read_cpu(http: aiohttp.ClientSession, engine: Process, reads: int = 100) -> float:
    """Engine CPU seconds one health read costs (what the harness's polling adds)."""
    before = procstat.sample(engine.pid).cpu_seconds
    for _ in range(reads):
        await get_json(http, f"{engine.admin_url}/api/v1/health")
    return (procstat.sample(engine.pid).cpu_seconds - before) / reads


def _calls_by_cycle(observation: Observation) -> list[dict[str, int]]:
    """Upstream calls by provider between consecutive cycle detections ({"cycles": cycles
    ended in between, usually 1, "total": n, provider: n, ...})."""
    rows: list[dict[str, int]] = []
    before, cycles = observation.start_counters, 0
    for detection in observation.detections:
        diff = counters_diff(before, detection.counters)
        row = {"cycles": detection.cycles - cycles, "total": int(diff["total"]["calls"])}
        row.update({name: int(p["calls"]) for name, p in diff["providers"].items()})
        rows.append(row)
        before, cycles = detection.counters, detection.cycles
    return rows


def _evaluations(now: dict[str, Any], then: dict[str, Any] | None = None) -> dict[str, float]:
    then = then or {}
    processed = now.get("total_symbols_processed", 0) - then.get("total_symbols_processed", 0)
    skipped = now.get("total_skipped_symbols", 0) - then.get("total_skipped_symbols", 0)
    return {
        "processed": processed,
        "skipped": skipped,
        "skip_rate": skipped / processed if processed else 0.0,
    }


def _cache(before: str, after: str) -> dict[str, Any]:
    caches = _labelled(after, "argo_cache_hits_total", "cache") | _labelled(
        after, "argo_cache_misses_total", "cache"
    )
    by_cache: dict[str, dict[str, float]] = {}
    for name in caches:
        hits = metric_sum(after, "argo_cache_hits_total", {"cache": name}) - metric_sum(
            before, "argo_cache_hits_total", {"cache": name}
        )
        misses = metric_sum(after, "argo_cache_misses_total", {"cache": name}) - metric_sum(
            before, "argo_cache_misses_total", {"cache": name}
        )
        by_cache[name] = {"hits": hits, "misses": misses}
    hits = sum(c["hits"] for c in by_cache.values())
    lookups = hits + sum(c["misses"] for c in by_cache.values())
    return {
        "hit_rate": hits / lookups if lookups else 0.0,
        "lookups": lookups,
        "by_cache": by_cache,
    }


def _labelled(exposition: str, name: str, label: str = "result") -> dict[str, float]:
    return {
        value: metric_sum(exposition, name, {label: value})
        for value in label_values(exposition, name, label)
    }
