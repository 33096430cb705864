"""What a phase measured: the readings taken after each cycle and the figures made from
them at the end (JSON-ready; bench.summary turns them into the headline figures)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import aiohttp

from bench import procstat
from bench.cluster import Cluster, Process, get_json, get_text
from bench.scenario import Phase
from bench.stats import counters_diff, label_values, metric_sum


@dataclass
class Detection:
    """What was read right after the engine finished a cycle (or several)."""

    cycles: int
    mean_seconds: float
    performance: dict[str, Any]
    counters: dict[str, Any]
    durations: list[float]  # every cycle's own duration so far (bench.cycle_record)
    cpu: dict[str, float] = field(default_factory=dict)


@dataclass
class Observation:
    start_counters: dict[str, Any]
    start_metrics: str
    detections: list[Detection] = field(default_factory=list)
    warm_metrics: str = ""  # gateway /metrics right after the first cycle
    polls: int = 0  # engine health reads (the harness's own load on the engine)
    warm_polls: int = 0  # ...of which after the first cycle


async def collect(
    phase: Phase, cluster: Cluster, http: aiohttp.ClientSession, observation: Observation
) -> dict[str, Any]:
    """Read the end state (metrics, health, memory) and make the phase's figures."""
    gateway = cluster.processes["market-gateway"]
    engine = cluster.processes["signal-engine"]
    end_metrics = await get_text(http, f"{gateway.admin_url}/metrics")
    engine_metrics = await get_text(http, f"{engine.admin_url}/metrics")
    gateway_health = await get_json(http, f"{gateway.admin_url}/api/v1/health")
    read_cost = await health_read_cpu(http, engine)
    memory = {
        name: procstat.sample(process.pid).peak_rss_mb
        for name, process in cluster.processes.items()
    }
    detections = observation.detections
    first, last = detections[0], detections[-1]
    durations = cycle_seconds(observation)
    warm_cycles = last.cycles - first.cycles
    per_cycle = calls_by_cycle(observation)
    return {
        "phase": phase.name,
        "mode": phase.mode,
        "symbols": len(phase.symbols),
        "cycles": last.cycles,
        "cycle_seconds": durations,
        "calls_by_cycle": per_cycle,
        "upstream_run": counters_diff(observation.start_counters, last.counters),
        "upstream_warm": counters_diff(first.counters, last.counters),
        "warm_cycles": warm_cycles,
        "health_polls_per_cycle": observation.polls / max(1, last.cycles),
        "harness_engine_cpu_ms_per_warm_cycle": (
            observation.warm_polls * read_cost * 1000 / warm_cycles if warm_cycles else 0.0
        ),
        "cache_run": cache_figures(observation.start_metrics, end_metrics),
        "cache_warm": cache_figures(observation.warm_metrics, end_metrics),
        "engine": {
            "run": evaluations(last.performance),
            "warm": evaluations(last.performance, first.performance),
            "evaluations": labelled(engine_metrics, "argo_signal_engine_symbolevaluations_total"),
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


async def health_read_cpu(http: aiohttp.ClientSession, engine: Process, reads: int = 100) -> float:
    """Engine CPU seconds one health read costs (what the harness's polling adds)."""
    before = procstat.sample(engine.pid).cpu_seconds
    for _ in range(reads):
        await get_json(http, f"{engine.admin_url}/api/v1/health")
    return (procstat.sample(engine.pid).cpu_seconds - before) / reads


def cycle_seconds(observation: Observation) -> list[float]:
    """Every cycle's own duration (the engine's record, read at the last detection), however
    many cycles ended between two detections; ValueError if an earlier read disagrees."""
    durations = observation.detections[-1].durations if observation.detections else []
    for detection in observation.detections:
        if durations[: len(detection.durations)] != detection.durations:
            raise ValueError(f"the engine's cycle record changed after cycle {detection.cycles}")
    return list(durations)


def calls_by_cycle(observation: Observation) -> list[dict[str, int]]:
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


def evaluations(now: dict[str, Any], then: dict[str, Any] | None = None) -> dict[str, float]:
    then = then or {}
    processed = now.get("total_symbols_processed", 0) - then.get("total_symbols_processed", 0)
    skipped = now.get("total_skipped_symbols", 0) - then.get("total_skipped_symbols", 0)
    return {
        "processed": processed,
        "skipped": skipped,
        "skip_rate": skipped / processed if processed else 0.0,
    }


def cache_figures(before: str, after: str) -> dict[str, Any]:
    caches = labelled(after, "argo_cache_hits_total", "cache") | labelled(
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


def labelled(exposition: str, name: str, label: str = "result") -> dict[str, float]:
    return {
        value: metric_sum(exposition, name, {label: value})
        for value in label_values(exposition, name, label)
    }
