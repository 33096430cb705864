"""The engine's own duration of every cycle, one line per cycle, for the harness.

The engine times each cycle once and hands that figure to two places: the histogram
`argo_signal_generation_duration_seconds` and the stats behind GetEngineStats and
/api/v1/health (count, mean, p50/p99). Both are aggregates: when two cycles end between
two reads (a 55 s cold cycle that overran, then a 30 ms one started at once), a reader
learns only their sum, and bucket counts do not say how it divides. So, when
BENCH_CYCLE_RECORD names a file, bench.clocked makes that histogram also append every
value it observes there (`repr(float)` and a newline, written before the engine counts
the cycle), and the harness reads cycle n's duration from line n. The engine's code and
figures are unchanged; `check` ties the record to its stats (count and mean).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from prometheus_client import Histogram

RECORD_VARIABLE = "BENCH_CYCLE_RECORD"
STATS_WINDOW = 1000  # the engine's mean covers its last 1000 cycles (app/cycle_stats.py)


class CycleRecordError(RuntimeError):
    """The record disagrees with the engine's own stats (count or mean)."""


def record_observations(histogram: Histogram, path: Path) -> None:
    """Make `histogram.observe` also append each value, as its own line, to `path`."""
    observe = histogram.observe

    def observe_and_record(amount: float, exemplar: dict[str, str] | None = None) -> None:
        with path.open("a", encoding="ascii") as sink:  # once a cycle: ~20 us
            sink.write(f"{float(amount)!r}\n")
        observe(amount, exemplar)

    histogram.observe = observe_and_record  # type: ignore[method-assign]


def record_engine_cycles(path: Path) -> None:
    """Record every cycle of the engine in this process (bench.clocked, before it runs)."""
    from observability.metrics import SIGNAL_GENERATION_SECONDS

    record_observations(SIGNAL_GENERATION_SECONDS, path)


def parse(text: str) -> list[float]:
    """The durations of a record; a last line still being written is left out."""
    complete = text[: text.rfind("\n") + 1]
    return [float(line) for line in complete.splitlines()]


def check(durations: Sequence[float], cycles: int, mean: float) -> list[float]:
    """The first `cycles` durations, after checking them against the engine's own count
    and mean of the same moment (CycleRecordError when they disagree)."""
    if len(durations) < cycles:
        raise CycleRecordError(f"engine counted {cycles} cycles, its record has {len(durations)}")
    mine = list(durations[:cycles])
    window = mine[-STATS_WINDOW:]
    recorded_mean = math.fsum(window) / len(window) if window else 0.0
    if not math.isclose(recorded_mean, mean, rel_tol=1e-9, abs_tol=1e-12):
        raise CycleRecordError(
            f"engine's mean of {cycles} cycles is {mean!r} s, its record's {recorded_mean!r} s"
        )
    return mine


def read(path: Path, cycles: int, mean: float) -> list[float]:
    """Every cycle's duration up to `cycles` (the engine's count, read with `mean`)."""
    try:
        text = path.read_text(encoding="ascii")
    except FileNotFoundError:
        text = ""
    return check(parse(text), cycles, mean)
