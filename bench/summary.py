"""Headline figures of a phase result, the baseline/optimized ratios and the issue's targets.

Pure functions over the JSON-ready result of bench.phase.run_phase (tested in
tests/unit/bench). Latencies in milliseconds; "warm" means every cycle after the first.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bench.stats import ratio_table, summarize, throttled

SERVICES = ("market-gateway", "signal-engine", "tracker")
SHORT = {"market-gateway": "gateway", "signal-engine": "engine", "tracker": "tracker"}


def headline(result: Mapping[str, Any]) -> dict[str, float]:
    """The per-mode figures, in display order."""
    durations_ms = [s * 1000.0 for s in result["cycle_seconds"]]
    warm = summarize(durations_ms[1:])
    cycles = max(1, int(result["cycles"]))
    warm_cycles = int(result["warm_cycles"])
    http_429, limited = throttled(result["upstream_run"])
    figures: dict[str, float] = {
        "cold first cycle ms": durations_ms[0] if durations_ms else math.nan,
        "warm cycle p50 ms": warm["p50"],
        "warm cycle p95 ms": warm["p95"],
        "warm cycle p99 ms": warm["p99"],
        "warm cycle mean ms": warm["mean"],
        "upstream calls/cycle": result["upstream_run"]["total"]["calls"] / cycles,
        "upstream calls/warm cycle": (
            result["upstream_warm"]["total"]["calls"] / warm_cycles if warm_cycles else math.nan
        ),
        "symbols evaluated/cycle": result["engine"]["run"]["processed"] / cycles,
        "cache hit rate": result["cache_run"]["hit_rate"],
        "skip rate": result["engine"]["run"]["skip_rate"],
        "429s received": float(http_429),
        "rate-limited answers": float(limited),
    }
    for service in SERVICES:
        cpu = result["cpu_seconds_per_cycle"].get(service, math.nan)
        figures[f"CPU ms/cycle {SHORT[service]}"] = cpu * 1000.0
    for service in SERVICES:
        figures[f"peak RSS MB {SHORT[service]}"] = result["peak_rss_mb"].get(service, math.nan)
    return figures


def calls_by_provider(result: Mapping[str, Any]) -> dict[str, float]:
    """Mean upstream calls per cycle by provider over the run."""
    cycles = max(1, int(result["cycles"]))
    providers = result["upstream_run"]["providers"]
    return {name: tally["calls"] / cycles for name, tally in sorted(providers.items())}


def ratios(baseline: Mapping[str, Any], optimized: Mapping[str, Any]) -> list[Any]:
    """(metric, baseline, optimized, baseline/optimized) rows."""
    return ratio_table(headline(baseline), headline(optimized))


@dataclass(frozen=True)
class Target:
    name: str
    value: float
    goal: str
    met: bool


def _goal(limit: float, unit: str) -> str:
    return f"{limit * 100:g}%" if unit == "%" else f"{limit:g}{unit}"


def _at_most(name: str, value: float, limit: float, unit: str = "") -> Target:
    met = not math.isnan(value) and value <= limit
    return Target(name, value, f"<= {_goal(limit, unit)}", met)


def _at_least(name: str, value: float, limit: float, unit: str = "") -> Target:
    met = not math.isnan(value) and value >= limit
    return Target(name, value, f">= {_goal(limit, unit)}", met)


def _throughput_targets(throughput: Mapping[str, Any]) -> list[Target]:
    """GetQuotes / echo as the services run (no exporter: no span recorded) and recording
    every span; a failed restart shows as not measured (NaN, not met)."""
    found = []
    if (rate := throughput.get("gateway_vs_echo")) is not None:
        name = "GetQuotes throughput / echo, no span recorded"
        found.append(_at_least(name, float(rate), 0.6, "%"))
    recorded = throughput.get("gateway_recorded_vs_echo")
    if recorded is None and "gateway_recorded_error" in throughput:
        recorded = math.nan
    if recorded is not None:
        name = "GetQuotes throughput / echo, every span recorded"
        found.append(_at_least(name, float(recorded), 0.6, "%"))
    return found


def targets(results: Mapping[str, Mapping[str, Any]]) -> list[Target]:
    """The issue's targets for `optimized` (6 symbols), scale-500 and throughput; a phase
    missing from `results` (quick runs skip scale-500) leaves its targets out."""
    found: list[Target] = []
    optimized = results.get("optimized")
    baseline = results.get("baseline")
    if optimized is not None:
        o = headline(optimized)
        found += [
            _at_most("warm cycle p50 (6 symbols)", o["warm cycle p50 ms"], 5, " ms"),
            _at_most("warm cycle p99 (6 symbols)", o["warm cycle p99 ms"], 15, " ms"),
            _at_most("upstream calls/cycle (run)", o["upstream calls/cycle"], 2),
            _at_least("cache hit rate (run)", o["cache hit rate"], 0.95, "%"),
            _at_most("rate-limited answers (429 + AV notes)", o["rate-limited answers"], 0),
        ]
        for service in SERVICES:
            rss = o[f"peak RSS MB {SHORT[service]}"]
            found.append(_at_most(f"peak RSS {service}", rss, 150, " MB"))
        if baseline is not None:
            b = headline(baseline)
            speedup = b["warm cycle p50 ms"] / o["warm cycle p50 ms"]
            found.append(_at_least("baseline/optimized warm p50", speedup, 100, "x"))
        found += _throughput_targets(optimized.get("throughput", {}))
    scale = results.get("scale-500")
    if scale is not None:
        s = headline(scale)
        found.append(_at_most("500 symbols warm cycle p50", s["warm cycle p50 ms"], 50, " ms"))
        found.append(_at_most("500 symbols calls/warm cycle", s["upstream calls/warm cycle"], 10))
    return found
