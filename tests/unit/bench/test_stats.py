from __future__ import annotations

import math

import pytest

from bench.stats import (
    counters_diff,
    label_values,
    metric_sum,
    per_cycle,
    percentile,
    ratio,
    ratio_table,
    summarize,
    throttled,
)


def test_percentile_interpolates_between_ranks_like_numpy() -> None:
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile(values, 50) == pytest.approx(2.5)
    assert percentile(values, 99) == pytest.approx(3.97)


def test_percentile_of_one_value_and_of_none() -> None:
    assert percentile([7.0], 99) == 7.0
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError, match="0..100"):
        percentile([1.0], 101)


def test_summarize_reports_every_figure() -> None:
    figures = summarize([float(x) for x in range(1, 101)])
    assert figures["n"] == 100
    assert figures["mean"] == pytest.approx(50.5)
    assert (figures["min"], figures["max"]) == (1.0, 100.0)
    assert figures["p50"] == pytest.approx(50.5)
    assert figures["p95"] == pytest.approx(95.05)
    assert figures["p99"] == pytest.approx(99.01)
    assert math.isnan(summarize([])["p50"])


def test_ratio_handles_zero_and_missing_figures() -> None:
    assert ratio(600.0, 3.0) == pytest.approx(200.0)
    assert ratio(36.0, 0.0) == math.inf
    assert math.isnan(ratio(0.0, 0.0))
    assert math.isnan(ratio(math.nan, 1.0))


def test_ratio_table_keeps_baseline_order_and_shared_metrics_only() -> None:
    rows = ratio_table({"p50": 700.0, "calls": 36.0, "only_here": 1.0}, {"calls": 2.0, "p50": 3.5})
    assert rows == [("p50", 700.0, 3.5, 200.0), ("calls", 36.0, 2.0, 18.0)]


def test_counters_diff_subtracts_per_provider_status_and_outcome() -> None:
    before = {
        "total": {"calls": 5, "symbols": 5, "by_status": {"200": 5}, "by_outcome": {"ok": 5}},
        "providers": {
            "polygon": {"calls": 5, "symbols": 5, "by_status": {"200": 5}, "by_outcome": {"ok": 5}}
        },
    }
    after = {
        "total": {
            "calls": 9,
            "symbols": 14,
            "by_status": {"200": 7, "429": 2},
            "by_outcome": {"ok": 7, "rate_limited": 2},
        },
        "providers": {
            "polygon": {
                "calls": 6,
                "symbols": 11,
                "by_status": {"200": 6},
                "by_outcome": {"ok": 6},
            },
            "xai": {
                "calls": 3,
                "symbols": 3,
                "by_status": {"200": 1, "429": 2},
                "by_outcome": {"ok": 1, "rate_limited": 2},
            },
        },
    }
    diff = counters_diff(before, after)
    assert diff["total"] == {
        "calls": 4,
        "symbols": 9,
        "by_status": {"200": 2, "429": 2},
        "by_outcome": {"ok": 2, "rate_limited": 2},
    }
    assert diff["providers"]["polygon"]["calls"] == 1
    assert diff["providers"]["polygon"]["symbols"] == 6
    assert diff["providers"]["xai"]["by_status"] == {"200": 1, "429": 2}
    assert throttled(diff) == (2, 2)


def test_counters_diff_leaves_out_providers_without_calls() -> None:
    same = {
        "total": {"calls": 2},
        "providers": {"yahoo": {"calls": 2, "symbols": 2, "by_status": {}, "by_outcome": {}}},
    }
    diff = counters_diff(same, same)
    assert diff["providers"] == {}
    assert diff["total"]["calls"] == 0
    assert throttled(diff) == (0, 0)


def test_alpha_vantage_notes_count_as_rate_limited_but_not_as_429() -> None:
    after = {"total": {"calls": 3, "by_status": {"200": 3}, "by_outcome": {"rate_limited": 3}}}
    assert throttled(counters_diff({}, after)) == (0, 3)


def test_per_cycle_differences() -> None:
    assert per_cycle([10, 46, 82, 83]) == [36, 36, 1]
    assert per_cycle([5]) == []


EXPOSITION = """\
# HELP argo_cache_hits_total Cache hits by cache name.
# TYPE argo_cache_hits_total counter
argo_cache_hits_total{cache="quotes"} 47.0
argo_cache_hits_total{cache="bars"} 3.0
argo_cache_hits_created{cache="quotes"} 1.7e+09
argo_cache_misses_total{cache="quotes"} 6.0
argo_signal_engine_polls_deferred_total 28.0
"""


def test_metric_sum_by_label_and_overall() -> None:
    assert metric_sum(EXPOSITION, "argo_cache_hits_total") == 50.0
    assert metric_sum(EXPOSITION, "argo_cache_hits_total", {"cache": "quotes"}) == 47.0
    assert metric_sum(EXPOSITION, "argo_cache_hits_total", {"cache": "sentiment"}) == 0.0
    assert metric_sum(EXPOSITION, "argo_signal_engine_polls_deferred_total") == 28.0
    assert label_values(EXPOSITION, "argo_cache_hits_total", "cache") == ["quotes", "bars"]
