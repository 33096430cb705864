"""How the SQLite adapter stores instants (integer microseconds, UTC) and days (text)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def to_micros(instant: datetime) -> int:
    delta = instant - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


def to_day(day: date) -> str:
    return day.isoformat()


def from_day(text: str) -> date:
    return date.fromisoformat(text)
