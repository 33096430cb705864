"""A small closed-loop load driver for the load tests.

`drive` runs `callers` coroutines that each send the next unary call as soon as the last one
answered, for `seconds`; `subscribe` holds `callers` server streams open for `seconds` and
times the events each receives. Both return a `LoadResult` (latencies, errors, throughput);
percentiles come from numpy. `rss_mib` reads a process's resident set from /proc.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import numpy as np

CALLERS = 64
MAX_ERRORS_KEPT = 5
MIN_STREAM_EVENTS = 2  # the current state, then at least one update


@dataclass
class LoadResult:
    """What one RPC did under load. For a stream, `latencies` are each subscriber's wait
    for its first event, `events` counts every event, and `per_caller` each one's events."""

    rpc: str
    callers: int
    seconds: float
    latencies: list[float] = field(default_factory=list)
    events: int = 0  # streams: events received by all subscribers
    errors: list[str] = field(default_factory=list)
    error_count: int = 0
    per_caller: list[int] = field(default_factory=list)

    @property
    def calls(self) -> int:
        return len(self.latencies)

    def percentile_ms(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        return float(np.percentile(np.asarray(self.latencies), q) * 1000.0)

    @property
    def throughput(self) -> float:
        """Answered calls per second (streams: events per second)."""
        done = self.events if self.per_caller else self.calls
        return done / self.seconds if self.seconds > 0 else 0.0

    def fail(self, error: BaseException) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_ERRORS_KEPT:
            if isinstance(error, grpc.aio.AioRpcError):
                self.errors.append(f"{error.code().name}: {error.details()}")
            else:
                self.errors.append(f"{type(error).__name__}: {error}")


async def drive(
    rpc: str,
    call: Callable[[int], Awaitable[Any]],
    *,
    seconds: float,
    callers: int = CALLERS,
) -> LoadResult:
    """`callers` closed loops of `call(i)` (i unique per call, so requests can differ) for
    `seconds`. A call that raises (an RPC error, or a failed check of its answer) counts
    as an error."""
    result = LoadResult(rpc, callers, seconds)
    counter = itertools.count()
    stop_at = time.monotonic() + seconds

    async def loop() -> None:
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                await call(next(counter))
            except Exception as e:
                result.fail(e)
                continue
            result.latencies.append(time.perf_counter() - started)

    began = time.monotonic()
    await asyncio.gather(*(loop() for _ in range(callers)))
    result.seconds = time.monotonic() - began
    return result


async def subscribe(
    rpc: str,
    open_stream: Callable[[int], grpc.aio.UnaryStreamCall[Any, Any]],
    *,
    seconds: float,
    callers: int = CALLERS,
    check: Callable[[Any], None] = lambda _: None,
) -> LoadResult:
    """`callers` streams from `open_stream(i)`, each read for `seconds` and then cancelled.
    A stream that fails before that, or an event failing `check`, counts as an error; a
    subscriber with fewer than two events (the current state and one update) fails
    `check_results`."""
    result = LoadResult(rpc, callers, seconds)
    result.per_caller = [0] * callers

    async def follow(i: int) -> None:
        stream = open_stream(i)
        opened = time.perf_counter()
        try:
            async with asyncio.timeout(seconds):
                while True:
                    event = await stream.read()
                    if event is grpc.aio.EOF:
                        raise AssertionError("the stream ended before it was cancelled")
                    check(event)
                    if not result.per_caller[i]:
                        result.latencies.append(time.perf_counter() - opened)
                    result.per_caller[i] += 1
                    result.events += 1
        except TimeoutError:
            pass
        except Exception as e:
            result.fail(e)
        finally:
            stream.cancel()

    began = time.monotonic()
    await asyncio.gather(*(follow(i) for i in range(callers)))
    result.seconds = time.monotonic() - began
    return result


def rss_mib(pid: int) -> float:
    """Resident set size of a live process, in MiB (VmRSS of /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024.0
    raise AssertionError(f"no VmRSS for pid {pid}")


def table(results: Sequence[LoadResult], rss: dict[str, tuple[float, float]]) -> str:
    """Per RPC: callers, calls (streams: events), errors, p50/p99 ms (streams: the wait for
    the first event), calls/s (streams: events/s); then the services' RSS after warm-up
    and at the end."""
    head = f"{'rpc':<34}{'callers':>8}{'calls':>8}{'errors':>7}{'p50 ms':>9}{'p99 ms':>9}"
    lines = [f"{head}{'per s':>9}"]
    for r in results:
        done = r.events if r.per_caller else r.calls
        lines.append(
            f"{r.rpc:<34}{r.callers:>8}{done:>8}{r.error_count:>7}"
            f"{r.percentile_ms(50):>9.1f}{r.percentile_ms(99):>9.1f}{r.throughput:>9.1f}"
        )
    for service, (warm, end) in rss.items():
        lines.append(
            f"RSS {service}: {warm:.1f} MiB after warm-up -> {end:.1f} MiB at the end "
            f"({end - warm:+.1f} MiB, {100.0 * (end - warm) / warm:+.1f}%)"
        )
    return "\n".join(lines)


def check_results(
    results: Sequence[LoadResult],
    *,
    p99_limit_seconds: float,
    stream_p99_limit_seconds: float,
    p99_limit_overrides: Mapping[str, float] | None = None,
) -> list[str]:
    """Broken promises of a run: errors, a p99 over its limit (streams: the wait for the
    first event), an RPC never answered, a subscriber that got no update."""
    broken: list[str] = []
    for r in results:
        stream = bool(r.per_caller)
        limit = stream_p99_limit_seconds if stream else p99_limit_seconds
        limit = (p99_limit_overrides or {}).get(r.rpc, limit)
        if r.error_count:
            broken.append(f"{r.rpc}: {r.error_count} errors, e.g. {r.errors}")
        if r.calls == 0:
            broken.append(f"{r.rpc}: no call answered")
        elif r.percentile_ms(99) > limit * 1000.0:
            broken.append(f"{r.rpc}: p99 {r.percentile_ms(99):.0f} ms > {limit * 1000:.0f} ms")
        if stream and min(r.per_caller) < MIN_STREAM_EVENTS:
            idle = sum(1 for n in r.per_caller if n < MIN_STREAM_EVENTS)
            broken.append(
                f"{r.rpc}: {idle} of {r.callers} subscribers received < {MIN_STREAM_EVENTS} events"
            )
    return broken


def warmup_errors(results: Sequence[LoadResult]) -> list[str]:
    """Errors of the warm-up: every call must succeed there too, only its latency is free."""
    return [
        f"warm-up {r.rpc}: {r.error_count} errors, e.g. {r.errors}"
        for r in results
        if r.error_count
    ]


def check_rss(
    rss: dict[str, tuple[float, float]], *, limit_mib: float, limit_fraction: float
) -> list[str]:
    """Services whose resident set grew after the warm-up by more than `limit_mib` or
    `limit_fraction` of the warm RSS, whichever is larger."""
    broken = []
    for service, (warm, end) in rss.items():
        limit = max(limit_mib, limit_fraction * warm)
        if end - warm > limit:
            broken.append(
                f"{service}: RSS grew {end - warm:.1f} MiB ({warm:.1f} -> {end:.1f}) "
                f"> {limit:.1f} MiB"
            )
    return broken
