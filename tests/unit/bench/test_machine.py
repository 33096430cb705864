from __future__ import annotations

import pytest

from bench.machine import CpuReading, busy_seconds_from_stat, others_cpu

STAT = "cpu  1000 20 300 90000 50 7 3 10 0 0\ncpu0 500 10 150 45000 25 4 1 5 0 0\n"


def test_busy_seconds_leave_out_idle_and_iowait() -> None:
    assert busy_seconds_from_stat(STAT, 100) == pytest.approx(13.4)
    with pytest.raises(ValueError, match="aggregate"):
        busy_seconds_from_stat("cpu0 1 2 3 4 5 6 7 8\n", 100)


def test_other_work_is_machine_busy_minus_our_own() -> None:
    before, after = CpuReading(100.0, 10.0), CpuReading(400.0, 210.0)
    found = others_cpu(before, after, wall_seconds=500.0)
    assert found["cpu_seconds"] == pytest.approx(100.0)
    assert 0 < found["share_of_cores"] <= 100.0 / 500.0
    assert others_cpu(after, after, 10.0)["cpu_seconds"] == 0.0
