"""The machine a run happened on, and how busy other work kept it during the run.

Busy CPU of the whole machine comes from the first line of /proc/stat (user + nice +
system + irq + softirq + steal jiffies); what this run used is the harness's own CPU plus
that of its children (every process it starts is waited for, so `RUSAGE_CHILDREN` holds
them). The difference is what everything else used meanwhile.
"""

from __future__ import annotations

import os
import platform
import resource
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def _proc_value(path: str, key: str) -> str:
    try:
        for line in Path(path).read_text().splitlines():
            name, _, value = line.partition(":")
            if name.strip() == key:
                return value.strip()
    except OSError:
        pass
    return ""


def _git(*args: str) -> str:
    try:
        done = subprocess.run(["git", *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def describe() -> dict[str, Any]:
    mem_kib = _proc_value("/proc/meminfo", "MemTotal").split()
    return {
        "cpu_model": _proc_value("/proc/cpuinfo", "model name") or platform.processor(),
        "cores": os.cpu_count(),
        "ram_gb": round(int(mem_kib[0]) * 1024 / 1e9, 1) if mem_kib else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "clock_ticks_per_second": os.sysconf("SC_CLK_TCK"),
        "git_commit": _git("rev-parse", "--short", "HEAD"),
        "git_dirty_files": len(_git("status", "--porcelain", "--untracked-files=no").splitlines()),
    }


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


@dataclass(frozen=True)
class CpuReading:
    machine_busy_seconds: float
    own_seconds: float  # this process and its waited-for children


def busy_seconds_from_stat(text: str, ticks_per_second: int) -> float:
    """Busy CPU seconds of all cores in a /proc/stat text (its aggregate "cpu" line)."""
    fields = text.splitlines()[0].split()
    if fields[0] != "cpu":
        raise ValueError(f"not the aggregate cpu line of /proc/stat: {fields[0]!r}")
    user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, fields[1:9])
    return (user + nice + system + irq + softirq + steal) / ticks_per_second


def cpu_reading() -> CpuReading:
    busy = busy_seconds_from_stat(Path("/proc/stat").read_text(), os.sysconf("SC_CLK_TCK"))
    own = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        usage = resource.getrusage(who)
        own += usage.ru_utime + usage.ru_stime
    return CpuReading(busy, own)


def others_cpu(before: CpuReading, after: CpuReading, wall_seconds: float) -> dict[str, float]:
    """CPU seconds other work used between two readings, and its share of all cores."""
    others = max(
        0.0,
        (after.machine_busy_seconds - before.machine_busy_seconds)
        - (after.own_seconds - before.own_seconds),
    )
    capacity = wall_seconds * (os.cpu_count() or 1)
    return {"cpu_seconds": others, "share_of_cores": others / capacity if capacity else 0.0}
