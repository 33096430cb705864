"""NYSE sessions from exchange-calendars, built lazily on the first question."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from signal_engine.adapters.nyse_calendar import NyseSessions

pytestmark = pytest.mark.asyncio


async def test_regular_session_holiday_weekend_and_early_close() -> None:
    sessions = NyseSessions()
    assert await sessions.stocks_open(datetime(2026, 11, 17, 15, 30, tzinfo=UTC))  # Tue 10:30
    assert not await sessions.stocks_open(datetime(2026, 11, 17, 21, 30, tzinfo=UTC))  # 16:30
    assert not await sessions.stocks_open(
        datetime(2026, 11, 26, 15, 30, tzinfo=UTC)
    )  # Thanksgiving
    assert not await sessions.stocks_open(datetime(2026, 11, 21, 15, 30, tzinfo=UTC))  # Saturday
    assert await sessions.stocks_open(datetime(2026, 11, 27, 17, 30, tzinfo=UTC))  # 12:30
    assert not await sessions.stocks_open(
        datetime(2026, 11, 27, 18, 30, tzinfo=UTC)
    )  # 13:30, early close
