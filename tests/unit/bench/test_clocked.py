from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from bench.clocked import ANCHOR_VARIABLE, clock_start
from bench.cycle_record import RECORD_VARIABLE, parse
from bench.scenario import CLOCK_START, clock_anchor


def test_clock_start_adds_the_wall_time_elapsed_since_the_anchor() -> None:
    anchor = clock_anchor(1_000.0)
    start = datetime.fromisoformat(clock_start(anchor, 1_012.5))
    elapsed = start - datetime.fromisoformat(CLOCK_START)
    assert elapsed.total_seconds() == 12.5
    assert start.utcoffset() is not None  # ARGO_CLOCK_START needs an explicit offset


ENGINE_LIKE = """\
from observability.metrics import SIGNAL_GENERATION_SECONDS

if __name__ == "__main__":  # like signal_engine.main: cycles run only as __main__
    SIGNAL_GENERATION_SECONDS.observe(55.0)
    SIGNAL_GENERATION_SECONDS.observe(0.03)
"""


def test_the_launcher_records_each_cycle_the_module_observes(tmp_path: Path) -> None:
    (tmp_path / "engine_like.py").write_text(ENGINE_LIKE)
    record = tmp_path / "cycles.txt"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), *sys.path]),
        ANCHOR_VARIABLE: clock_anchor(time.time()),
        RECORD_VARIABLE: str(record),
    }
    subprocess.run(
        [sys.executable, "-m", "bench.clocked", "engine_like"], env=env, check=True, timeout=60
    )
    assert parse(record.read_text()) == [55.0, 0.03]
