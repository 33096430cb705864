from __future__ import annotations

from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Histogram

from bench import cycle_record
from bench.cycle_record import CycleRecordError, check, parse, record_observations


def _histogram(registry: CollectorRegistry) -> Histogram:
    return Histogram("cycle_seconds", "one cycle", buckets=(0.05, 10.0), registry=registry)


def test_every_observed_cycle_is_written_on_its_own_line(tmp_path: Path) -> None:
    registry = CollectorRegistry()
    histogram = _histogram(registry)
    record = tmp_path / "cycles.txt"
    record_observations(histogram, record)
    histogram.observe(55.0)
    histogram.observe(0.03)
    assert parse(record.read_text()) == [55.0, 0.03]
    # the histogram itself still counts both (the engine's figures are unchanged)
    assert registry.get_sample_value("cycle_seconds_count") == 2.0
    assert registry.get_sample_value("cycle_seconds_sum") == pytest.approx(55.03)
    assert registry.get_sample_value("cycle_seconds_bucket", {"le": "0.05"}) == 1.0


def test_recorded_values_round_trip_exactly(tmp_path: Path) -> None:
    histogram = _histogram(CollectorRegistry())
    record = tmp_path / "cycles.txt"
    record_observations(histogram, record)
    values = [0.1 + 0.2, 54.826123456789, 1e-05]
    for value in values:
        histogram.observe(value)
    assert parse(record.read_text()) == values


def test_two_cycles_ending_between_two_reads_keep_their_own_durations(tmp_path: Path) -> None:
    # health read: cycles_total 0 -> 2, avg_signal_generation_time 27.515 (their mean)
    record = tmp_path / "cycles.txt"
    record.write_text("55.0\n0.03\n")
    assert cycle_record.read(record, 2, (55.0 + 0.03) / 2) == [55.0, 0.03]


def test_cycles_past_the_engines_count_are_left_for_the_next_read() -> None:
    # a third cycle ended between the health read and the record read
    assert check([55.0, 0.03, 0.04], 2, (55.0 + 0.03) / 2) == [55.0, 0.03]


def test_a_line_still_being_written_is_left_out() -> None:
    assert parse("55.0\n0.03\n0.0") == [55.0, 0.03]
    assert parse("") == []


def test_a_record_short_of_the_engines_count_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CycleRecordError, match="counted 2 cycles, its record has 1"):
        check([55.0], 2, 27.515)
    with pytest.raises(CycleRecordError, match="its record has 0"):
        cycle_record.read(tmp_path / "missing.txt", 1, 55.0)


def test_a_record_whose_mean_is_not_the_engines_is_refused() -> None:
    with pytest.raises(CycleRecordError, match="mean of 2 cycles"):
        check([27.5, 27.5], 2, 27.515)


def test_the_mean_is_compared_over_the_engines_window() -> None:
    durations = [100.0] + [1.0] * cycle_record.STATS_WINDOW
    assert check(durations, len(durations), 1.0) == durations
