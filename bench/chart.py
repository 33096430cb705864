"""The PNG chart: cycle latency distribution and upstream calls per cycle, both modes."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)

from bench.summary import calls_by_provider  # noqa: E402

COLORS = {"baseline": "tab:red", "optimized": "tab:green"}


def draw(results: Mapping[str, Mapping[str, Any]], path: Path) -> None:
    modes = [m for m in ("baseline", "optimized") if m in results]
    figure, (latency, calls, providers) = plt.subplots(1, 3, figsize=(16, 4.8))
    for mode in modes:
        durations = sorted(s * 1000.0 for s in results[mode]["cycle_seconds"][1:])
        shares = [(i + 1) / len(durations) for i in range(len(durations))]
        latency.step(durations, shares, where="post", color=COLORS[mode], label=f"{mode} warm")
        cold = results[mode]["cycle_seconds"][0] * 1000.0
        latency.axvline(cold, color=COLORS[mode], linestyle=":", label=f"{mode} cold first")
    latency.set_xscale("log")
    latency.set_xlabel("cycle latency, ms (log scale)")
    latency.set_ylabel("share of warm cycles at or below")
    latency.set_title("Cycle latency distribution (6 symbols)")
    latency.legend(fontsize=8)
    for mode in modes:
        rows = results[mode]["calls_by_cycle"]
        per_cycle = [row["total"] / max(1, row["cycles"]) for row in rows]
        calls.plot(range(1, len(per_cycle) + 1), per_cycle, color=COLORS[mode], label=mode)
    calls.set_xlabel("cycle")
    calls.set_ylabel("upstream calls (simulator counters)")
    calls.set_title("Upstream calls per cycle")
    calls.legend(fontsize=8)
    names = sorted({p for m in modes for p in calls_by_provider(results[m])})
    width = 0.8 / max(1, len(modes))
    for i, mode in enumerate(modes):
        by = calls_by_provider(results[mode])
        xs = [j + i * width for j in range(len(names))]
        providers.bar(xs, [by.get(n, 0.0) for n in names], width, color=COLORS[mode], label=mode)
    ticks = [j + width * (len(modes) - 1) / 2 for j in range(len(names))]
    providers.set_xticks(ticks, names, rotation=20)
    providers.set_ylabel("mean calls per cycle")
    providers.set_title("Upstream calls per cycle by provider")
    providers.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
