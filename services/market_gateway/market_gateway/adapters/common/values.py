"""Typed reading of provider JSON: every odd value becomes `BadProviderData` naming the field.

Parsers bind one `Wire` to their provider name, so each message says who sent the bad data.
Times: `from_epoch` takes seconds, ms, µs or ns (told apart by magnitude, as providers mix
them: Polygon sends ms for bars and ns for trades); `from_rfc3339` reads Alpaca's strings.
Daily bars are stamped 00:00 UTC of their trading date (`daily_start`), as the synthetic
market's are, whatever the provider uses (00:00 New York, 09:30 New York, 00:00 UTC).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any, NoReturn

from market_gateway.domain import BadProviderData, Quote, validate_quote

QUOTE_MAX_SKEW = timedelta(seconds=2)
_NS_THRESHOLD = 10**17  # epoch values above this are nanoseconds (year 1973 in ns)
_US_THRESHOLD = 10**14
_MS_THRESHOLD = 10**11


class Wire:
    """Reads one provider's JSON; raises BadProviderData(provider=...) on anything odd."""

    def __init__(self, provider: str) -> None:
        self.provider = provider

    def bad(self, message: str, *, retryable: bool = False) -> BadProviderData:
        return BadProviderData(
            f"{self.provider}: {message}", provider=self.provider, retryable=retryable
        )

    def fail(self, message: str) -> NoReturn:
        raise self.bad(message)

    def obj(self, value: object, what: str) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            self.fail(f"{what} is not an object")
        return value

    def items(self, value: object, what: str) -> list[Any]:
        if not isinstance(value, list):
            self.fail(f"{what} is not a list")
        return value

    def field(self, data: Mapping[str, Any], key: str, what: str) -> Any:
        if key not in data or data[key] is None:
            self.fail(f"{what} has no {key!r}")
        return data[key]

    def num(self, data: Mapping[str, Any], key: str, what: str) -> float:
        return self.number(self.field(data, key, what), f"{what}.{key}")

    def opt_num(self, data: Mapping[str, Any], key: str, what: str) -> float | None:
        value = data.get(key)
        return None if value is None else self.number(value, f"{what}.{key}")

    def number(self, value: object, what: str) -> float:
        """A JSON number or numeric string ("122.6700"); NaN/inf are refused."""
        if isinstance(value, bool):
            self.fail(f"{what} is not a number: {value!r}")
        if isinstance(value, int | float):
            number = float(value)
        elif isinstance(value, str):
            try:
                number = float(value.strip().rstrip("%"))
            except ValueError:
                self.fail(f"{what} is not a number: {value[:40]!r}")
        else:
            self.fail(f"{what} is not a number: {type(value).__name__}")
        if not math.isfinite(number):
            self.fail(f"{what} is not finite: {value!r}")
        return number

    def text(self, data: Mapping[str, Any], key: str, what: str) -> str:
        value = self.field(data, key, what)
        if not isinstance(value, str):
            self.fail(f"{what}.{key} is not a string")
        return value

    def epoch(self, data: Mapping[str, Any], key: str, what: str) -> datetime:
        value = self.field(data, key, what)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(f"{what}.{key} is not an epoch number")
        try:
            return from_epoch(value)
        except (ValueError, OverflowError, OSError):
            self.fail(f"{what}.{key} is not a valid epoch time: {value!r}")

    def rfc3339(self, data: Mapping[str, Any], key: str, what: str) -> datetime:
        raw = self.text(data, key, what)
        try:
            return from_rfc3339(raw)
        except ValueError:
            self.fail(f"{what}.{key} is not an RFC 3339 time: {raw[:40]!r}")

    def checked_quote(self, quote: Quote, now: datetime) -> Quote:
        """The quote if finite, positive and not from the future, else BadProviderData."""
        try:
            return validate_quote(quote, now, max_skew=QUOTE_MAX_SKEW)
        except BadProviderData as e:
            raise BadProviderData(str(e), provider=self.provider) from None


def from_epoch(value: int | float) -> datetime:
    """An epoch in s, ms, µs or ns (by magnitude) as an aware UTC datetime."""
    if not math.isfinite(value):
        raise ValueError("not finite")
    magnitude = abs(value)
    if magnitude >= _NS_THRESHOLD:
        whole = int(value)
        seconds, nanos = divmod(whole, 1_000_000_000)
        return datetime.fromtimestamp(seconds, UTC) + timedelta(microseconds=nanos // 1000)
    if magnitude >= _US_THRESHOLD:
        return datetime.fromtimestamp(0, UTC) + timedelta(microseconds=int(value))
    if magnitude >= _MS_THRESHOLD:
        return datetime.fromtimestamp(0, UTC) + timedelta(milliseconds=value)
    return datetime.fromtimestamp(value, UTC)


def from_rfc3339(text: str) -> datetime:
    """Alpaca's "2022-03-18T14:02:43.651613184Z" (nanoseconds truncated to µs)."""
    instant = datetime.fromisoformat(text.strip())
    if instant.tzinfo is None:
        raise ValueError("no UTC offset")
    return instant.astimezone(UTC)


def to_epoch_ms(instant: datetime) -> int:
    return int(instant.timestamp() * 1000)


def daily_start(day: date) -> datetime:
    """The start_time every adapter gives the daily bar of trading date `day`."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
