"""The result tables as plain strings (rendered by rich on the terminal and as Markdown in
docs/benchmarks.md from the same rows)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bench.summary import calls_by_provider, headline, ratios, targets


@dataclass(frozen=True)
class TextTable:
    title: str
    headers: list[str]
    rows: list[list[str]]


def fmt(metric: str, value: float) -> str:
    """A figure formatted for its metric ('-' when there is none)."""
    if value is None or math.isnan(value):
        return "-"
    if math.isinf(value):
        return "inf"
    if "rate" in metric and "limited" not in metric:
        return f"{value * 100:.1f}%"
    if "ms" in metric or "MB" in metric:
        return _number(value)
    if "429" in metric or "limited" in metric:
        return f"{value:.0f}"
    return f"{value:.1f}" if value < 100 else f"{value:,.0f}"


def fmt_ratio(value: float) -> str:
    if math.isnan(value):
        return "-"
    if math.isinf(value):
        return "inf"
    return f"{value:,.0f}x" if value >= 100 else f"{value:.2f}x"


def _number(value: float) -> str:
    if abs(value) < 10:
        return f"{value:.2f}"
    if abs(value) < 100:
        return f"{value:.1f}"
    return f"{value:,.0f}"


def seed_table(results: Mapping[str, Mapping[str, Any]]) -> TextTable:
    rows = [
        [
            name,
            fmt(name, b),
            fmt(name, o),
            "" if "rate" in name and "limited" not in name else fmt_ratio(r),
        ]
        for name, b, o, r in ratios(results["baseline"], results["optimized"])
    ]
    return TextTable(
        "Seed scenario: 6 symbols x 6 sources, 5 s cycles",
        ["metric", "baseline", "optimized", "baseline/optimized"],
        rows,
    )


def provider_table(results: Mapping[str, Mapping[str, Any]]) -> TextTable:
    modes = [m for m in ("baseline", "optimized") if m in results]
    by_mode = {m: calls_by_provider(results[m]) for m in modes}
    names = sorted({p for by in by_mode.values() for p in by})
    rows = [[n, *(f"{by_mode[m].get(n, 0.0):.2f}" for m in modes)] for n in names]
    return TextTable("Upstream calls per cycle by provider (run)", ["provider", *modes], rows)


SCALE_METRICS = (
    "cold first cycle ms",
    "warm cycle p50 ms",
    "warm cycle p95 ms",
    "warm cycle p99 ms",
    "symbols evaluated/cycle",
    "upstream calls/cycle",
    "upstream calls/warm cycle",
    "cache hit rate",
    "skip rate",
    "rate-limited answers",
    "CPU ms/cycle gateway",
    "CPU ms/cycle engine",
    "CPU ms/cycle tracker",
    "peak RSS MB gateway",
    "peak RSS MB engine",
    "peak RSS MB tracker",
)


def scale_table(results: Mapping[str, Mapping[str, Any]]) -> TextTable:
    """One column per symbol count (optimized)."""
    phases = [n for n in ("optimized", "scale-50", "scale-500") if n in results]
    figures = {n: headline(results[n]) for n in phases}
    rows = [["cycles", *(str(results[n]["cycles"]) for n in phases)]]
    rows += [[m, *(fmt(m, figures[n][m]) for n in phases)] for m in SCALE_METRICS]
    headers = ["metric", *(f"{results[n]['symbols']} symbols" for n in phases)]
    return TextTable("Scale (optimized)", headers, rows)


_THROUGHPUT_ROWS = {
    "gateway": "GetQuotes (market-gateway, no span recorded)",
    "gateway_recorded": "GetQuotes, every span recorded (none exported)",
    "echo": "bare grpc.aio echo (asyncio loop)",
    "echo_uvloop": "bare grpc.aio echo on uvloop",
}


def throughput_table(result: Mapping[str, Any]) -> TextTable:
    rows: list[list[str]] = []
    rounds = result.get("rounds", {})  # every round, for the spread (the best one counts)
    for kind, label in _THROUGHPUT_ROWS.items():
        if kind not in result:  # results saved before this server was measured
            continue
        r = result[kind]
        rows.append(
            [
                label,
                f"{r['calls_per_second']:,.0f}",
                _spread([float(x["calls_per_second"]) for x in rounds.get(kind, [])]),
                _number(r["latency_ms"]["p50"]),
                _number(r["latency_ms"]["p99"]),
                f"{r['server_cpu_share']:.2f}",
                f"{r['client_cpu_share']:.2f}",
                str(r["errors"]),
            ]
        )
    title = (
        f"Throughput, 6 symbols, 64 callers: GetQuotes = {result['gateway_vs_echo']:.0%} of echo"
    )
    if "gateway_vs_echo_uvloop" in result:
        title += f" ({result['gateway_vs_echo_uvloop']:.0%} of echo on uvloop)"
    if "gateway_recorded_vs_echo" in result:
        title += f"; {result['gateway_recorded_vs_echo']:.0%} with every span recorded"
    elif "gateway_recorded_error" in result:
        title += "; with every span recorded: not measured (the restart failed)"
    headers = ["server", "calls/s", "all rounds", "p50 ms", "p99 ms", "server CPU", "client CPU"]
    return TextTable(title, [*headers, "errors"], rows)


def _spread(rates: list[float]) -> str:
    """'2,176-2,486 (4)': the lowest and highest round and how many there were."""
    if not rates:
        return "-"
    if len(rates) == 1:
        return f"{rates[0]:,.0f} (1)"
    return f"{min(rates):,.0f}-{max(rates):,.0f} ({len(rates)})"


def targets_table(results: Mapping[str, Mapping[str, Any]]) -> TextTable:
    rows = [
        [t.name, _target_value(t.name, t.value), t.goal, "met" if t.met else "NOT met"]
        for t in targets(results)
    ]
    return TextTable("Targets (issue 8)", ["target", "measured", "goal", ""], rows)


def _target_value(name: str, value: float) -> str:
    if "hit rate" in name or "/ echo" in name:
        return f"{value * 100:.1f}%"
    if "baseline/optimized" in name:
        return fmt_ratio(value)
    if "rate-limited" in name:
        return f"{value:.0f}"
    return _number(value) if "calls" not in name else f"{value:.2f}"


def details_table(results: Mapping[str, Mapping[str, Any]]) -> TextTable:
    """What each phase cost the machine besides the suite, and what the engine did."""
    headers = ["phase", "mode", "symbols", "cycles", "start-up s", "health reads/cycle"]
    headers += ["engine CPU of those reads ms/warm cycle"]
    headers += ["simulator CPU ms/cycle", "polls deferred", "signals published"]
    rows: list[list[str]] = []
    for name, r in results.items():
        sim_cpu = r["cpu_seconds_per_cycle"].get("provider-sim")
        rows.append(
            [
                name,
                r["mode"],
                str(r["symbols"]),
                str(r["cycles"]),
                f"{r.get('startup_seconds', math.nan):.1f}",
                f"{r.get('health_polls_per_cycle', math.nan):.1f}",
                _number(r.get("harness_engine_cpu_ms_per_warm_cycle", math.nan)),
                _number(sim_cpu * 1000) if sim_cpu is not None else "-",
                f"{r['engine']['polls_deferred']:.0f}",
                str(r["engine"]["signals_published"]),
            ]
        )
    return TextTable("Phases", headers, rows)


def all_tables(results: Mapping[str, Mapping[str, Any]]) -> list[TextTable]:
    tables: list[TextTable] = []
    if "baseline" in results and "optimized" in results:
        tables += [seed_table(results), provider_table(results)]
    if "optimized" in results:
        tables.append(scale_table(results))
        if "throughput" in results["optimized"]:
            tables.append(throughput_table(results["optimized"]["throughput"]))
    tables.append(targets_table(results))
    tables.append(details_table(results))
    return tables
