"""Pure figures of the benchmark: percentiles, summaries, ratios and counter differences.

Nothing here reads a clock, a file or the network, so tests/unit/bench covers all of it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

Summary = dict[str, float]


def percentile(values: Sequence[float], q: float) -> float:
    """Linearly interpolated percentile (q in 0..100), numpy's default method; NaN when
    there are no values."""
    if not 0.0 <= q <= 100.0:
        raise ValueError(f"q must be within 0..100, got {q}")
    if not values:
        return math.nan
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    fraction = position - low
    return ordered[low] + (ordered[high] - ordered[low]) * fraction


def summarize(values: Sequence[float]) -> Summary:
    """n, mean, min, p50, p95, p99 and max of `values` (NaN figures when empty)."""
    if not values:
        nan = math.nan
        return {"n": 0, "mean": nan, "min": nan, "p50": nan, "p95": nan, "p99": nan, "max": nan}
    return {
        "n": len(values),
        "mean": math.fsum(values) / len(values),
        "min": min(values),
        "p50": percentile(values, 50),
        "p95": percentile(values, 95),
        "p99": percentile(values, 99),
        "max": max(values),
    }


def ratio(baseline: float, optimized: float) -> float:
    """baseline / optimized: inf when only optimized is 0, NaN when both are 0 or either is
    NaN (a ratio of nothing to nothing says nothing)."""
    if math.isnan(baseline) or math.isnan(optimized):
        return math.nan
    if optimized == 0.0:
        return math.nan if baseline == 0.0 else math.inf
    return baseline / optimized


def ratio_table(
    baseline: Mapping[str, float], optimized: Mapping[str, float]
) -> list[tuple[str, float, float, float]]:
    """(metric, baseline, optimized, baseline/optimized) for every metric both modes have,
    in the baseline's order."""
    return [
        (name, value, optimized[name], ratio(value, optimized[name]))
        for name, value in baseline.items()
        if name in optimized
    ]


def counters_diff(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, Any]:
    """What happened between two `GET /_sim/counters` snapshots: per provider calls,
    symbols, statuses and outcomes, plus totals. Providers first seen in `after` count
    from zero."""
    providers: dict[str, dict[str, Any]] = {}
    names = sorted(set(before.get("providers", {})) | set(after.get("providers", {})))
    for name in names:
        old = before.get("providers", {}).get(name, {})
        new = after.get("providers", {}).get(name, {})
        providers[name] = _tally_diff(old, new)
    total = _tally_diff(before.get("total", {}), after.get("total", {}))
    return {"total": total, "providers": {n: p for n, p in providers.items() if p["calls"]}}


def _tally_diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "calls": int(new.get("calls", 0)) - int(old.get("calls", 0)),
        "symbols": int(new.get("symbols", 0)) - int(old.get("symbols", 0)),
        "by_status": _count_diff(old.get("by_status", {}), new.get("by_status", {})),
        "by_outcome": _count_diff(old.get("by_outcome", {}), new.get("by_outcome", {})),
    }


def _count_diff(old: Mapping[str, int], new: Mapping[str, int]) -> dict[str, int]:
    keys = sorted(set(old) | set(new))
    changed = {k: int(new.get(k, 0)) - int(old.get(k, 0)) for k in keys}
    return {k: v for k, v in changed.items() if v}


def throttled(diff: Mapping[str, Any]) -> tuple[int, int]:
    """(HTTP 429 answers, all rate-limited answers incl. Alpha Vantage's HTTP-200 notes) in
    a `counters_diff` result."""
    total = diff.get("total", {})
    return int(total.get("by_status", {}).get("429", 0)), int(
        total.get("by_outcome", {}).get("rate_limited", 0)
    )


def per_cycle(series: Sequence[float]) -> list[float]:
    """Differences of a cumulative series sampled once per cycle (first sample = start)."""
    return [b - a for a, b in zip(series, series[1:], strict=False)]


def metric_sum(exposition: str, name: str, labels: Mapping[str, str] | None = None) -> float:
    """Sum of the samples of `name` (with at least `labels`) in a Prometheus text
    exposition."""
    found = 0.0
    for line in exposition.splitlines():
        if not line.startswith(name) or line.startswith("#"):
            continue
        head, _, value = line.rpartition(" ")
        metric, _, raw_labels = head.partition("{")
        if metric != name:
            continue
        have = _labels(raw_labels.rstrip("}"))
        if labels and any(have.get(k) != v for k, v in labels.items()):
            continue
        found += float(value)
    return found


def _labels(raw: str) -> dict[str, str]:
    pairs: dict[str, str] = {}
    for part in raw.split('",'):
        key, _, value = part.partition("=")
        if key:
            pairs[key.strip()] = value.strip().strip('"')
    return pairs


def label_values(exposition: str, name: str, label: str) -> list[str]:
    """Distinct values of `label` among the samples of `name`."""
    seen: dict[str, None] = {}
    for line in exposition.splitlines():
        if line.startswith(name + "{"):
            head = line.rpartition(" ")[0]
            value = _labels(head.partition("{")[2].rstrip("}")).get(label)
            if value is not None:
                seen.setdefault(value, None)
    return list(seen)
