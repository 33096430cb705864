"""Keyset pagination: cursors and the opaque page tokens that carry them."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from tracker.domain.errors import InvalidQuery
from tracker.domain.model import TrackedSignal
from tracker.domain.validation import UUID_RE


@dataclass(frozen=True)
class SignalCursor:
    """Keyset position: the page continues with rows strictly older than this key."""

    create_time: datetime
    signal_id: str

    @classmethod
    def after(cls, tracked: TrackedSignal) -> SignalCursor:
        return cls(tracked.signal.create_time, tracked.signal.signal_id)


@dataclass(frozen=True)
class PageToken:
    """Opaque continuation token: a cursor bound to the filter it was issued for."""

    cursor: SignalCursor
    filter_fingerprint: str

    def encode(self) -> str:
        micros = _to_micros(self.cursor.create_time)
        body = {"t": micros, "id": self.cursor.signal_id, "f": self.filter_fingerprint}
        raw = json.dumps(body, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> PageToken:
        """Parse a token; raise InvalidQuery on anything malformed."""
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            body = json.loads(raw)
            micros, signal_id, fingerprint = body["t"], body["id"], body["f"]
            if not (isinstance(micros, int) and isinstance(fingerprint, str)):
                raise TypeError("bad field types")
            if not (isinstance(signal_id, str) and UUID_RE.fullmatch(signal_id)):
                raise ValueError("bad signal_id")
            cursor = SignalCursor(_from_micros(micros), signal_id)
        # RecursionError: a forged token nesting JSON deeper than the parser can follow
        except (binascii.Error, ValueError, KeyError, TypeError, OverflowError, RecursionError):
            raise InvalidQuery([("page_token", "is malformed")]) from None
        return cls(cursor, fingerprint)


@dataclass(frozen=True)
class SignalPage:
    signals: tuple[TrackedSignal, ...]
    next_page_token: str  # empty on the last page


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _to_micros(instant: datetime) -> int:
    delta = instant - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def _from_micros(micros: int) -> datetime:
    return _EPOCH + timedelta(microseconds=micros)


@dataclass(frozen=True)
class DayPageToken:
    """Continuation of a newest-first list of days: the page continues before `day`."""

    day: date
    fingerprint: str

    def encode(self) -> str:
        body = json.dumps({"d": self.day.isoformat(), "f": self.fingerprint}, separators=(",", ":"))
        return base64.urlsafe_b64encode(body.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> DayPageToken:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            body = json.loads(raw)
            day, fingerprint = date.fromisoformat(body["d"]), body["f"]
            if not isinstance(fingerprint, str):
                raise TypeError("bad fingerprint")
            if day == date.min:  # the page would continue before year 1: never issued
                raise ValueError("no day before")
        except (binascii.Error, ValueError, KeyError, TypeError, RecursionError):
            raise InvalidQuery([("page_token", "is malformed")]) from None
        return cls(day, fingerprint)
