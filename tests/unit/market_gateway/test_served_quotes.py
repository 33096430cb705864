"""Served copies of stored quotes: reused while exact, never served stale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from market_gateway.app.served_quotes import ServedQuotes
from market_gateway.domain import CacheStatus, Quote

TICK = datetime(2026, 11, 17, 15, 30, 1, 123456, tzinfo=UTC)
STORED = Quote("AAPL", 230.5, 230.4, 230.6, 1e6, TICK, "polygon", CacheStatus.STREAM)


def test_the_copy_carries_the_stored_status_and_the_age_at_the_request() -> None:
    served = ServedQuotes().serve("AAPL", STORED, TICK + timedelta(milliseconds=250.9))
    assert (served.price, served.time, served.provider) == (230.5, TICK, "polygon")
    assert (served.cache_status, served.age_ms) == (CacheStatus.STREAM, 250)


def test_one_copy_per_millisecond_of_age_and_per_stored_quote() -> None:
    copies = ServedQuotes()
    now = TICK + timedelta(milliseconds=40)
    first = copies.serve("AAPL", STORED, now)
    assert copies.serve("AAPL", STORED, now + timedelta(microseconds=300)) is first
    older = copies.serve("AAPL", STORED, now + timedelta(milliseconds=1))
    assert older is not first and older.age_ms == 41
    equal_but_new = Quote("AAPL", 230.5, 230.4, 230.6, 1e6, TICK, "polygon", CacheStatus.HIT_LOCAL)
    again = copies.serve("AAPL", equal_but_new, now + timedelta(milliseconds=1))
    assert again is not older and again.cache_status is CacheStatus.HIT_LOCAL


def test_a_quote_from_the_future_is_zero_ms_old() -> None:
    served = ServedQuotes().serve("AAPL", STORED, TICK - timedelta(seconds=1))
    assert served.age_ms == 0


def test_the_copies_are_forgotten_when_full() -> None:
    copies = ServedQuotes(max_symbols=2)
    for symbol in ("AAPL", "MSFT"):
        copies.serve(symbol, STORED, TICK)
    assert len(copies) == 2
    copies.serve("NVDA", STORED, TICK)
    assert len(copies) == 1
    with pytest.raises(ValueError, match="max_symbols"):
        ServedQuotes(max_symbols=0)
