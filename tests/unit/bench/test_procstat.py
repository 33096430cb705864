from __future__ import annotations

import os

import pytest

from bench.procstat import cpu_seconds_from_stat, memory_from_status, sample

# pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
STAT = "4242 (python -m (x) y) S 1 4242 4242 0 -1 4194304 900 0 0 0 1234 266 0 0 20 0 3 0"


def test_cpu_seconds_are_utime_plus_stime_after_the_command_name() -> None:
    assert cpu_seconds_from_stat(STAT, ticks_per_second=100) == pytest.approx(15.0)


def test_memory_from_status_in_decimal_megabytes() -> None:
    status = "Name:\tpython\nVmPeak:\t  900000 kB\nVmHWM:\t  150000 kB\nVmRSS:\t  100000 kB\n"
    peak, rss = memory_from_status(status)
    assert peak == pytest.approx(153.6)
    assert rss == pytest.approx(102.4)
    assert memory_from_status("Name:\tkthread\n") == (0.0, 0.0)


def test_sample_of_this_process_is_plausible() -> None:
    reading = sample(os.getpid())
    assert reading.cpu_seconds > 0
    assert reading.peak_rss_mb >= reading.rss_mb > 1
