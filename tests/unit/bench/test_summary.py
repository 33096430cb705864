from __future__ import annotations

import math
from typing import Any

import pytest

from bench.summary import calls_by_provider, headline, ratios, targets
from bench.tables import all_tables, fmt, fmt_ratio


def _upstream(calls: dict[str, int], limited: int = 0) -> dict[str, Any]:
    total = sum(calls.values())
    return {
        "total": {
            "calls": total,
            "by_status": {"200": total - limited, "429": limited} if limited else {"200": total},
            "by_outcome": {"ok": total - limited, "rate_limited": limited},
        },
        "providers": {name: {"calls": n} for name, n in calls.items()},
    }


def result(
    cycle_ms: list[float], calls: dict[str, int], *, hit_rate: float, rss: float = 120.0
) -> dict[str, Any]:
    cycles = len(cycle_ms)
    return {
        "mode": "optimized",
        "symbols": 6,
        "cycles": cycles,
        "warm_cycles": cycles - 1,
        "cycle_seconds": [ms / 1000 for ms in cycle_ms],
        "upstream_run": _upstream(calls),
        "upstream_warm": _upstream({k: v // 2 for k, v in calls.items()}),
        "cache_run": {"hit_rate": hit_rate},
        "engine": {
            "run": {"processed": 6 * cycles, "skipped": 0, "skip_rate": 0.25},
            "polls_deferred": 0.0,
            "signals_published": 6,
        },
        "cpu_seconds_per_cycle": {"market-gateway": 0.02, "signal-engine": 0.01},
        "peak_rss_mb": {"market-gateway": rss, "signal-engine": rss, "tracker": rss},
    }


BASELINE = result([9000.0, 6000.0, 6000.0, 6000.0, 6000.0], {"polygon": 60, "xai": 30}, hit_rate=0)
OPTIMIZED = result([2800.0, 3.0, 4.0, 5.0, 3.0], {"polygon": 5}, hit_rate=0.97)


def test_headline_figures_of_a_phase() -> None:
    figures = headline(BASELINE)
    assert figures["cold first cycle ms"] == pytest.approx(9000.0)
    assert figures["warm cycle p50 ms"] == pytest.approx(6000.0)
    assert figures["upstream calls/cycle"] == pytest.approx(18.0)
    assert figures["upstream calls/warm cycle"] == pytest.approx(45 / 4)
    assert figures["CPU ms/cycle gateway"] == pytest.approx(20.0)
    assert math.isnan(figures["CPU ms/cycle tracker"])  # not sampled: shown as "-"
    assert calls_by_provider(BASELINE) == {"polygon": 12.0, "xai": 6.0}


def test_ratios_are_baseline_over_optimized() -> None:
    rows = {name: r for name, _, _, r in ratios(BASELINE, OPTIMIZED)}
    assert rows["warm cycle p50 ms"] == pytest.approx(6000.0 / 3.5)
    assert rows["upstream calls/cycle"] == pytest.approx(18.0)
    assert math.isnan(rows["429s received"])  # 0 / 0 says nothing


def test_targets_met_and_missed() -> None:
    found = {t.name: t for t in targets({"baseline": BASELINE, "optimized": OPTIMIZED})}
    assert found["warm cycle p50 (6 symbols)"].met
    assert found["baseline/optimized warm p50"].met
    assert found["cache hit rate (run)"].met
    assert found["cache hit rate (run)"].goal == ">= 95%"
    assert found["upstream calls/cycle (run)"].met  # 5 calls / 5 cycles = 1
    assert found["rate-limited answers (429 + AV notes)"].met
    fat = result([2800.0, 3.0, 30.0], {"polygon": 50}, hit_rate=0.5, rss=190.0)
    missed = {t.name: t for t in targets({"optimized": fat})}
    assert not missed["warm cycle p99 (6 symbols)"].met
    assert not missed["upstream calls/cycle (run)"].met
    assert not missed["peak RSS market-gateway"].met
    assert "baseline/optimized warm p50" not in missed  # no baseline in this run
    assert "500 symbols warm cycle p50" not in missed  # no scale-500 (quick run)


def test_tables_render_every_phase_present() -> None:
    tables = all_tables({"baseline": BASELINE, "optimized": OPTIMIZED})
    titles = [t.title for t in tables]
    assert titles[0].startswith("Seed scenario")
    assert "Scale (optimized)" in titles
    assert titles[-1] == "Phases"
    seed = tables[0]
    assert all(len(row) == len(seed.headers) for row in seed.rows)


def test_formatting() -> None:
    assert fmt("warm cycle p50 ms", 3.456) == "3.46"
    assert fmt("cold first cycle ms", 9506.2) == "9,506"
    assert fmt("cache hit rate", 0.806) == "80.6%"
    assert fmt("rate-limited answers", 3.0) == "3"
    assert fmt("warm cycle p50 ms", math.nan) == "-"
    assert fmt_ratio(1619.4) == "1,619x"
    assert fmt_ratio(3.341) == "3.34x"
    assert fmt_ratio(math.inf) == "inf"


def test_doc_names_the_machine_and_flags_a_busy_one() -> None:
    from bench.doc import render

    report = {
        "machine": {
            "cpu_model": "AMD EPYC",
            "cores": 2,
            "ram_gb": 25.3,
            "python": "3.11.7",
            "platform": "Linux",
            "git_commit": "abc1234",
            "git_dirty_files": 3,
        },
        "results": {"baseline": BASELINE, "optimized": OPTIMIZED},
        "load_average": {"before": [1.8, 1.4, 1.3], "after": [2.9, 2.0, 1.6]},
        "other_work": {"cpu_seconds": 400.0, "share_of_cores": 0.29},
        "json_name": "bench-x.json",
        "started": "2026-11-21T14:11:03+00:00",
        "duration_seconds": 700.0,
        "command": "make bench",
        "databases": {"redis_url": "redis://127.0.0.1:6379/11", "database": "argo_bench"},
    }
    text = render(report, "benchmarks.png")
    assert "| CPU | AMD EPYC, 2 cores |" in text
    assert "The machine was busy" in text
    assert "| warm cycle p50 ms | 6,000 | 3.50 | 1,714x |" in text
    assert "`redis://127.0.0.1:6379/11`" in text
    assert "used 29% of the cores" in text
    quiet = {**report, "other_work": {"cpu_seconds": 10.0, "share_of_cores": 0.01}}
    assert "The machine was busy" not in render(quiet, "benchmarks.png")


def test_throughput_is_judged_unrecorded_and_with_every_span_recorded() -> None:
    """Both figures face the target, so a run that meets it only without recording spans
    says so in its own targets table; a failed restart is not measured, not left out."""
    unrecorded, recorded = (
        "GetQuotes throughput / echo, no span recorded",
        "GetQuotes throughput / echo, every span recorded",
    )

    def judged(throughput: dict[str, object]) -> dict[str, Any]:
        return {t.name: t for t in targets({"optimized": {**OPTIMIZED, "throughput": throughput}})}

    found = judged({"gateway_vs_echo": 0.63, "gateway_recorded_vs_echo": 0.52})
    assert found[unrecorded].met and found[unrecorded].goal == ">= 60%"
    assert not found[recorded].met and found[recorded].value == 0.52
    failed = judged({"gateway_vs_echo": 0.63, "gateway_recorded_error": "not SERVING"})
    assert not failed[recorded].met and math.isnan(failed[recorded].value)
    saved = judged({"gateway_vs_echo": 0.63})  # results saved before the recorded run existed
    assert unrecorded in saved and recorded not in saved
