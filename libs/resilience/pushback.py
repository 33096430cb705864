"""Turn a provider's rate-limit answer into the instant until which the key is paused.

Hand-written (small, provider-specific): tenacity's `wait_exception` can read a Retry-After
inside one retry loop, but nothing turns these signals into a shared pause. Parsers here are
pure functions of the response and `now`; feed the result to `RateLimiter.pause(key,
pushback.until, source=pushback.source)`:
- `Retry-After` (RFC 9110): delta-seconds or an HTTP-date, on 429/503.
- `X-RateLimit-Remaining` = 0 with `X-RateLimit-Reset` (epoch seconds as Alpaca documents,
  epoch ms, or delta seconds / Go-style durations such as `6m0s`, `20ms`), and the IETF draft
  `RateLimit-Remaining`/`RateLimit-Reset` (delta seconds).
- Alpha Vantage's HTTP 200 with a `Note` (per-minute frequency) or `Information` (daily limit
  or per-second burst) body; an `Information` that is not about limits is not a pushback.
Pauses are clamped to `MAX_PAUSE` so a bogus header cannot stop a provider for days.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

MAX_PAUSE = timedelta(days=1, hours=1)
DEFAULT_429_PAUSE = timedelta(seconds=1)
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_LIMIT_WORDS = ("rate limit", "call frequency", "requests per day", "per minute", "per second")


@dataclass(frozen=True, slots=True)
class Pushback:
    """A provider told us to stop until `until`; `source` labels metrics and logs."""

    until: datetime
    source: str


def _clamped(now: datetime, until: datetime, source: str) -> Pushback | None:
    if until <= now:
        return None
    return Pushback(min(until, now + MAX_PAUSE), source)


def _seconds(value: str) -> float | None:
    text = value.strip().lower()
    try:
        number = float(text)
    except ValueError:
        parts = _DURATION.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            return None
        scale = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
        return sum(float(n) * scale[u] for n, u in parts)
    return number if math.isfinite(number) else None


def parse_retry_after(value: str, now: datetime) -> Pushback | None:
    """`Retry-After: 120` or `Retry-After: Wed, 21 Oct 2026 07:28:00 GMT`."""
    seconds = _seconds(value)
    if seconds is not None:
        return _clamped(now, now + timedelta(seconds=seconds), "retry_after")
    try:
        instant = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    return _clamped(now, instant, "retry_after")


def parse_ratelimit_headers(headers: Mapping[str, str], now: datetime) -> Pushback | None:
    """Pause until the reset when the provider reports no requests remaining."""
    lower = {k.lower(): v for k, v in headers.items()}
    for prefix in ("x-ratelimit-", "ratelimit-"):
        remaining = _seconds(lower.get(prefix + "remaining", ""))
        reset_text = lower.get(prefix + "reset") or lower.get(prefix + "reset-requests")
        if remaining is None or remaining > 0 or reset_text is None:
            continue
        reset = _seconds(reset_text)
        if reset is None:
            continue
        if reset >= 1e12:
            until = datetime.fromtimestamp(reset / 1000.0, UTC)
        elif reset >= 1e9:
            until = datetime.fromtimestamp(reset, UTC)
        else:
            until = now + timedelta(seconds=reset)
        return _clamped(now, until, "ratelimit_headers")
    return None


def parse_response(status: int, headers: Mapping[str, str], now: datetime) -> Pushback | None:
    """Any pushback in an HTTP response: Retry-After, X-RateLimit-*, or a bare 429."""
    lower = {k.lower(): v for k, v in headers.items()}
    if status in (429, 503) and "retry-after" in lower:
        found = parse_retry_after(lower["retry-after"], now)
        if found is not None:
            return found
    found = parse_ratelimit_headers(lower, now)
    if found is None and status == 429:
        found = Pushback(now + DEFAULT_429_PAUSE, "status_429")
    return found


def parse_alpha_vantage_note(
    body: Mapping[str, object], now: datetime, *, day_reset_offset: timedelta = timedelta(0)
) -> Pushback | None:
    """Alpha Vantage's HTTP-200 throttle bodies; daily limits pause until the next day start.

    `day_reset_offset` shifts the daily boundary from 00:00 UTC (the provider does not
    document its reset instant; make it configurable rather than guess).
    """
    note, information = body.get("Note"), body.get("Information")
    text = note if isinstance(note, str) else information if isinstance(information, str) else None
    if text is None:
        return None
    lowered = text.lower()
    if not any(word in lowered for word in _LIMIT_WORDS):
        return None
    if "per second" in lowered or "burst" in lowered:
        return Pushback(now + timedelta(seconds=1), "body_note")
    if isinstance(note, str) or "per day" not in lowered:
        return Pushback(now + timedelta(seconds=60), "body_note")
    day_start = (
        (now - day_reset_offset).astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    )
    return _clamped(now, day_start + timedelta(days=1) + day_reset_offset, "body_note")
