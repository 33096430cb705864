from __future__ import annotations

from typing import Any

import pytest

from bench.collect import Detection, Observation, cache_figures, calls_by_cycle, evaluations


def _counters(**calls: int) -> dict[str, Any]:
    return {
        "total": {"calls": sum(calls.values())},
        "providers": {name: {"calls": n} for name, n in calls.items()},
    }


def test_calls_are_attributed_to_the_cycle_during_which_they_were_counted() -> None:
    observation = Observation(start_counters=_counters(polygon=2), start_metrics="")
    observation.detections = [
        Detection(1, 2.5, {}, _counters(polygon=14, xai=6)),
        Detection(2, 1.3, {}, _counters(polygon=14, xai=6)),
        Detection(4, 0.7, {}, _counters(polygon=15, xai=6)),  # two cycles in one reading
    ]
    assert calls_by_cycle(observation) == [
        {"cycles": 1, "total": 18, "polygon": 12, "xai": 6},
        {"cycles": 1, "total": 0},
        {"cycles": 2, "total": 1, "polygon": 1},
    ]


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
