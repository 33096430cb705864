"""Time spellings the providers use: epoch ms/ns, RFC 3339, exchange-local midnights."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

NEW_YORK = ZoneInfo("America/New_York")
CHICAGO = ZoneInfo("America/Chicago")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_ms(instant: datetime) -> int:
    return (instant - _EPOCH) // timedelta(milliseconds=1)


def epoch_ns(instant: datetime) -> int:
    return (instant - _EPOCH) // timedelta(microseconds=1) * 1000


def epoch_s(instant: datetime) -> int:
    return (instant - _EPOCH) // timedelta(seconds=1)


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def rfc3339(instant: datetime) -> str:
    """`2021-10-13T04:00:00Z`, with a fraction only when there is one (as Alpaca writes)."""
    utc = instant.astimezone(UTC)
    text = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if utc.microsecond:
        text += f".{utc.microsecond:06d}".rstrip("0")
    return text + "Z"


def parse_rfc3339(text: str) -> datetime:
    """An RFC 3339 instant or a bare date (midnight UTC); ValueError if neither."""
    value = text.strip()
    if len(value) == 10:
        return datetime.combine(date.fromisoformat(value), time(), tzinfo=UTC)
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    head, dot, rest = value.partition(".")
    if dot:  # Python takes at most 6 fraction digits; providers send up to 9
        digits = len(rest) - len(rest.lstrip("0123456789"))
        value = f"{head}.{rest[: min(digits, 6)]}{rest[digits:]}"
    instant = datetime.fromisoformat(value)
    if instant.tzinfo is None:
        raise ValueError(f"no UTC offset in {text!r}")
    return instant.astimezone(UTC)


def local_midnight(day: date, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone).astimezone(UTC)


def local_time(day: date, hour: int, minute: int, zone: tzinfo) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=zone).astimezone(UTC)


def new_york_date(instant: datetime) -> date:
    return instant.astimezone(NEW_YORK).date()


def new_york_naive(instant: datetime) -> str:
    """Alpha Vantage's naive US/Eastern timestamp."""
    return instant.astimezone(NEW_YORK).strftime("%Y-%m-%d %H:%M:%S")


def parse_instant(text: str, name: str = "instant") -> datetime:
    """An ISO-8601 instant with an explicit offset, as UTC."""
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"{name}: not an ISO-8601 instant: {text!r}") from None
    if instant.tzinfo is None:
        raise ValueError(f"{name}: needs a UTC offset, e.g. 2026-11-17T15:00:00Z: {text!r}")
    return instant.astimezone(UTC)
