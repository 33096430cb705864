"""Start a module with its clock in step with the other processes of a phase.

    python -m bench.clocked <module>      (env: BENCH_CLOCK_ANCHOR=<epoch seconds>,<ISO instant>)

Every process reads ARGO_CLOCK_START once, when it builds its clock, after a second or two
of imports; processes started at different moments would disagree by seconds (the gateway
rejects quotes more than 2 s "in the future"). This launcher imports the module first,
then sets ARGO_CLOCK_START to the anchor's instant plus the wall time elapsed since the
anchor's epoch, and runs the module as __main__ (runpy): every clock then maps the same
wall time to the same simulated instant, within the few milliseconds between this and the
clock's construction.

With BENCH_CYCLE_RECORD set (the engine's run), every cycle's duration is also written to
that file (bench/cycle_record.py).
"""

from __future__ import annotations

import importlib
import os
import runpy
import sys
import time
import warnings
from datetime import datetime, timedelta
from pathlib import Path

from bench.cycle_record import RECORD_VARIABLE, record_engine_cycles

ANCHOR_VARIABLE = "BENCH_CLOCK_ANCHOR"


def clock_start(anchor: str, now: float) -> str:
    """ARGO_CLOCK_START for wall time `now` under `anchor` ("<epoch>,<ISO instant>")."""
    epoch, _, instant = anchor.partition(",")
    start = datetime.fromisoformat(instant) + timedelta(seconds=now - float(epoch))
    return start.isoformat()


def main() -> None:
    module = sys.argv[1]
    sys.argv = [module, *sys.argv[2:]]
    importlib.import_module(module)  # the slow part, before the clock starts
    if record := os.environ.get(RECORD_VARIABLE):
        record_engine_cycles(Path(record))
    os.environ["ARGO_CLOCK_START"] = clock_start(os.environ[ANCHOR_VARIABLE], time.time())
    warnings.filterwarnings("ignore", category=RuntimeWarning, module="runpy")
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
