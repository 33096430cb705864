"""Seeded latency and fault draws, outage windows, and the bodies of broken answers.

Every provider has its own random streams (latency, faults), seeded from the config seed
and the provider's name, so a run with the same config and the same order of calls sees
the same delays and the same failures. `reset()` rewinds the streams.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from tools.provider_sim.config import Faults, Latency
from tools.provider_sim.timefmt import parse_instant

_Z99 = 2.326347874  # standard normal 99th percentile


class Fault(Enum):
    NONE = "none"
    ERROR = "error"  # 5xx with the provider's error body
    HTML = "html"  # an HTML error page
    MALFORMED = "malformed"  # 200, body is not JSON
    TRUNCATED = "truncated"  # connection closed before the promised body ends


@dataclass(frozen=True, slots=True)
class FaultDraw:
    fault: Fault
    status: int = 200
    extra_delay: float = 0.0  # seconds (slow responses)


class FaultInjector:
    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._streams: dict[tuple[str, str], random.Random] = {}

    def reset(self) -> None:
        self._streams.clear()

    def latency(self, provider: str, latency: Latency) -> float:
        """One delay in seconds from the lognormal fitted to median and p99 (0 if median 0)."""
        if latency.median_ms <= 0:
            return 0.0
        mu = math.log(latency.median_ms)
        sigma = max(0.0, math.log(max(latency.p99_ms, latency.median_ms)) - mu) / _Z99
        value = self._stream(provider, "latency").lognormvariate(mu, sigma)
        return min(value, latency.max_ms) / 1000.0

    def draw(self, provider: str, faults: Faults) -> FaultDraw:
        """Which fault (if any) this call meets; each kind is drawn independently in order."""
        rng = self._stream(provider, "faults")
        extra = (
            faults.slow_ms / 1000.0 if faults.slow_rate and rng.random() < faults.slow_rate else 0.0
        )
        if faults.error_rate and rng.random() < faults.error_rate:
            return FaultDraw(Fault.ERROR, rng.choice(faults.error_statuses), extra)
        if faults.html_rate and rng.random() < faults.html_rate:
            return FaultDraw(Fault.HTML, faults.html_status, extra)
        if faults.malformed_rate and rng.random() < faults.malformed_rate:
            return FaultDraw(Fault.MALFORMED, 200, extra)
        if faults.truncated_rate and rng.random() < faults.truncated_rate:
            return FaultDraw(Fault.TRUNCATED, 200, extra)
        return FaultDraw(Fault.NONE, 200, extra)

    def _stream(self, provider: str, purpose: str) -> random.Random:
        key = (provider, purpose)
        stream = self._streams.get(key)
        if stream is None:
            stream = self._streams[key] = random.Random(f"{self._seed}/{provider}/{purpose}")
        return stream


def outage_mode(faults: Faults, now: datetime, started: datetime) -> str | None:
    """How the provider fails at `now` (refuse | 503 | reset), or None when it is up."""
    if faults.down:
        return faults.outage_mode
    for window in faults.outages:
        if _instant(window.start, started) <= now < _instant(window.end, started):
            return window.mode or faults.outage_mode
    return None


def _instant(value: float | str, started: datetime) -> datetime:
    if isinstance(value, str):
        return parse_instant(value)
    return started + timedelta(seconds=value)


def html_page(status: int) -> str:
    """The nginx error page proxies in front of the providers answer with."""
    reason = {502: "Bad Gateway", 503: "Service Temporarily Unavailable", 504: "Gateway Time-out"}
    title = f"{status} {reason.get(status, 'Internal Server Error')}"
    return (
        f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
        f"<center><h1>{title}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
    )


def malformed(body: bytes) -> bytes:
    """A body that starts like the real one but is not JSON (cut, then garbage)."""
    cut = body[: max(1, len(body) * 2 // 3)]
    return cut + b'\x00,"}]<!-- upstream error -->'
