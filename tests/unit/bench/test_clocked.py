from __future__ import annotations

from datetime import datetime

from bench.clocked import clock_start
from bench.scenario import CLOCK_START, clock_anchor


def test_clock_start_adds_the_wall_time_elapsed_since_the_anchor() -> None:
    anchor = clock_anchor(1_000.0)
    start = datetime.fromisoformat(clock_start(anchor, 1_012.5))
    elapsed = start - datetime.fromisoformat(CLOCK_START)
    assert elapsed.total_seconds() == 12.5
    assert start.utcoffset() is not None  # ARGO_CLOCK_START needs an explicit offset
