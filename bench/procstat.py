"""CPU time and peak memory of a process, read from /proc (psutil is not installed).

CPU seconds are utime + stime of /proc/<pid>/stat (fields 14 and 15, in clock ticks of
`os.sysconf("SC_CLK_TCK")`, usually 100 per second, so a reading has 10 ms resolution);
peak RSS is VmHWM of /proc/<pid>/status (the kernel's high-water mark of resident memory),
reported in MB of 10^6 bytes (the kernel's "kB" are KiB).
The parse functions are pure; the readers take the pid.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class ProcessSample:
    cpu_seconds: float
    peak_rss_mb: float
    rss_mb: float


def cpu_seconds_from_stat(text: str, ticks_per_second: int = CLOCK_TICKS) -> float:
    """utime + stime of a /proc/<pid>/stat line, in seconds. The command name (field 2) may
    hold spaces and parentheses, so fields are counted after its last ')'."""
    rest = text[text.rindex(")") + 2 :].split()
    utime, stime = int(rest[11]), int(rest[12])  # fields 14 and 15 of the whole line
    return (utime + stime) / ticks_per_second


def memory_from_status(text: str) -> tuple[float, float]:
    """(VmHWM, VmRSS) of a /proc/<pid>/status text, in MB (0 when absent)."""
    found = {"VmHWM": 0.0, "VmRSS": 0.0}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key in found:
            found[key] = int(value.split()[0]) * 1024 / 1e6  # the kernel's kB are KiB
    return found["VmHWM"], found["VmRSS"]


def sample(pid: int) -> ProcessSample:
    """CPU seconds so far and memory of a live process (FileNotFoundError once it exited)."""
    proc = Path("/proc") / str(pid)
    cpu = cpu_seconds_from_stat((proc / "stat").read_text())
    peak, rss = memory_from_status((proc / "status").read_text())
    return ProcessSample(cpu_seconds=cpu, peak_rss_mb=peak, rss_mb=rss)
