"""Three OS processes share one quota through Redis: together they stay within it, and a
Retry-After seen by one process pauses the others."""

from __future__ import annotations

import multiprocessing
from typing import Any

import pytest

from tests.unit.resilience.quota_oracle import violations

from . import workers

pytestmark = pytest.mark.integration


def run_processes(targets: list[tuple[Any, tuple[Any, ...]]]) -> list[dict[str, Any]]:
    """Start every target in its own spawned process, release them together, collect results."""
    ctx = multiprocessing.get_context("spawn")
    ready, results, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=fn, args=(*args, ready, go, results)) for fn, args in targets]
    for proc in procs:
        proc.start()
    try:
        for _ in procs:
            ready.get(timeout=30)
        go.set()
        collected = [results.get(timeout=30) for _ in procs]
    finally:
        for proc in procs:
            proc.join(timeout=10)
            if proc.is_alive():
                proc.kill()
    assert all(proc.exitcode == 0 for proc in procs)
    return collected


def test_three_processes_together_stay_within_one_quota(redis_url: str, prefix: str) -> None:
    seconds = 1.5
    outcomes = run_processes(
        [(workers.hammer, (redis_url, prefix, "hammer", seconds, seed)) for seed in (1, 2, 3)]
    )
    grants = [grant for outcome in outcomes for grant in outcome["grants"]]
    assert violations(workers.HAMMER_QUOTA.windows, grants) == []
    assert all(outcome["grants"] for outcome in outcomes)  # every process got a share
    total = sum(cost for _, cost in grants)
    assert total >= 0.6 * (8 + 40 * seconds)  # they really competed for the whole quota


def test_a_retry_after_seen_by_one_process_pauses_the_others(redis_url: str, prefix: str) -> None:
    outcomes = run_processes(
        [
            (workers.hammer, (redis_url, prefix, "pause", 2.5, 1)),
            (workers.hammer, (redis_url, prefix, "pause", 2.5, 2)),
            (workers.pauser, (redis_url, prefix, 0.7)),
        ]
    )
    hammers = [o for o in outcomes if "grants" in o]
    pause = next(o for o in outcomes if "until" in o)
    for outcome in hammers:
        times = [at for at, _ in outcome["grants"]]
        assert [at for at in times if pause["paused_at"] <= at < pause["until"]] == []
        assert outcome["paused_rejections"] > 0
        assert any(at < pause["paused_at"] for at in times)  # it ran before the pause
        assert any(at >= pause["until"] for at in times)  # and resumed after it
