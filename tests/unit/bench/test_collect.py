from __future__ import annotations

from typing import Any

import pytest

from bench.collect import (
    Detection,
    Observation,
    cache_figures,
    calls_by_cycle,
    cycle_seconds,
    evaluations,
)
from bench.summary import headline


def _counters(**calls: int) -> dict[str, Any]:
    return {
        "total": {"calls": sum(calls.values())},
        "providers": {name: {"calls": n} for name, n in calls.items()},
    }


def test_calls_are_attributed_to_the_cycle_during_which_they_were_counted() -> None:
    observation = Observation(start_counters=_counters(polygon=2), start_metrics="")
    observation.detections = [
        Detection(1, 2.5, {}, _counters(polygon=14, xai=6), [2.5]),
        Detection(2, 1.3, {}, _counters(polygon=14, xai=6), [2.5, 0.1]),
        # two cycles in one reading
        Detection(4, 0.7, {}, _counters(polygon=15, xai=6), [2.5, 0.1, 0.15, 0.05]),
    ]
    assert calls_by_cycle(observation) == [
        {"cycles": 1, "total": 18, "polygon": 12, "xai": 6},
        {"cycles": 1, "total": 0},
        {"cycles": 2, "total": 1, "polygon": 1},
    ]


def test_cycles_ending_between_two_readings_keep_their_own_durations() -> None:
    # The cold cycle (55 s) overran, so the next started at once and ended 30 ms later,
    # before the harness's next read: the engine's count went 0 -> 2, its mean to 27.515 s.
    observation = Observation(start_counters=_counters(), start_metrics="")
    observation.detections = [
        Detection(2, 27.515, {}, _counters(), [55.0, 0.03]),
        Detection(3, (55.0 + 0.03 + 0.04) / 3, {}, _counters(), [55.0, 0.03, 0.04]),
        Detection(
            5, (55.0 + 0.03 + 0.04 + 1.2 + 0.02) / 5, {}, _counters(), [55.0, 0.03, 0.04, 1.2, 0.02]
        ),
    ]
    assert cycle_seconds(observation) == [55.0, 0.03, 0.04, 1.2, 0.02]


def test_warm_percentiles_are_the_warm_cycles_own_not_a_share_of_the_cold_one() -> None:
    durations = [55.0, 0.03, 0.04, 0.05, 0.03]
    result = {
        "cycle_seconds": durations,
        "cycles": 5,
        "warm_cycles": 3,
        "upstream_run": {"total": {"calls": 0}},
        "upstream_warm": {"total": {"calls": 0}},
        "engine": {"run": {"processed": 0, "skip_rate": 0.0}},
        "cache_run": {"hit_rate": 0.0},
        "cpu_seconds_per_cycle": {},
        "peak_rss_mb": {},
    }
    figures = headline(result)
    assert figures["cold first cycle ms"] == 55_000.0
    assert figures["warm cycle p99 ms"] == pytest.approx(49.7)
    assert figures["warm cycle mean ms"] == pytest.approx(37.5)


def test_a_record_that_changed_between_readings_is_refused() -> None:
    observation = Observation(start_counters=_counters(), start_metrics="")
    observation.detections = [
        Detection(1, 55.0, {}, _counters(), [55.0]),
        Detection(2, 27.5, {}, _counters(), [27.5, 27.5]),
    ]
    with pytest.raises(ValueError, match="after cycle 1"):
        cycle_seconds(observation)


BEFORE = """\
argo_cache_hits_total{cache="quotes"} 10.0
argo_cache_misses_total{cache="quotes"} 5.0
"""
AFTER = """\
argo_cache_hits_total{cache="quotes"} 100.0
argo_cache_misses_total{cache="quotes"} 7.0
argo_cache_hits_total{cache="sentiment"} 6.0
argo_cache_misses_total{cache="sentiment"} 2.0
"""


def test_cache_hit_rate_over_a_window_across_caches() -> None:
    figures = cache_figures(BEFORE, AFTER)
    assert figures["by_cache"]["quotes"] == {"hits": 90.0, "misses": 2.0}
    assert figures["by_cache"]["sentiment"] == {"hits": 6.0, "misses": 2.0}
    assert figures["lookups"] == 100.0
    assert figures["hit_rate"] == pytest.approx(0.96)
    assert cache_figures("", "")["hit_rate"] == 0.0  # no lookups: cache off


def test_skip_rate_of_the_run_and_of_a_window() -> None:
    start = {"total_symbols_processed": 6, "total_skipped_symbols": 0}
    end = {"total_symbols_processed": 30, "total_skipped_symbols": 18}
    assert evaluations(end) == {"processed": 30, "skipped": 18, "skip_rate": 0.6}
    assert evaluations(end, start)["skip_rate"] == pytest.approx(0.75)
    assert evaluations({})["skip_rate"] == 0.0
