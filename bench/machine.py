"""The machine a run happened on, and how busy it was (load average before and after)."""

from __future__ import annotations

import os
import platform
import subprocess
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
