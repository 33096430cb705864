"""NYSE sessions from exchange-calendars: holidays, early closes, weekends; crypto 24/7."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from market_gateway.adapters.calendar import NyseCalendar
from market_gateway.domain import AssetClass, TradingSession

STOCK, CRYPTO = AssetClass.STOCK, AssetClass.CRYPTO


def utc(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def test_regular_session_is_open_from_0930_to_1600_new_york(nyse: NyseCalendar) -> None:
    assert not nyse.is_open(utc(2026, 11, 17, 14, 29), STOCK)
    assert nyse.is_open(utc(2026, 11, 17, 14, 30), STOCK)  # 09:30 EST
    assert nyse.is_open(utc(2026, 11, 17, 20, 59), STOCK)
    assert not nyse.is_open(utc(2026, 11, 17, 21, 0), STOCK)  # 16:00 EST
    assert nyse.sessions(utc(2026, 11, 17), utc(2026, 11, 18)) == [
        TradingSession(utc(2026, 11, 17, 14, 30), utc(2026, 11, 17, 21, 0))
    ]


def test_summer_session_follows_daylight_saving(nyse: NyseCalendar) -> None:
    assert nyse.is_open(utc(2026, 7, 15, 13, 30), STOCK)  # 09:30 EDT
    assert not nyse.is_open(utc(2026, 7, 15, 20, 0), STOCK)  # 16:00 EDT


def test_thanksgiving_is_closed_all_day(nyse: NyseCalendar) -> None:
    thanksgiving_noon = utc(2026, 11, 26, 17, 0)
    assert not nyse.is_open(thanksgiving_noon, STOCK)
    assert nyse.sessions(utc(2026, 11, 26), utc(2026, 11, 27)) == []
    assert nyse.next_open(thanksgiving_noon, STOCK) == utc(2026, 11, 27, 14, 30)
    assert nyse.previous_close(thanksgiving_noon, STOCK) == utc(2026, 11, 25, 21, 0)


def test_day_after_thanksgiving_closes_early_at_1300_new_york(nyse: NyseCalendar) -> None:
    assert nyse.is_open(utc(2026, 11, 27, 17, 59), STOCK)
    assert not nyse.is_open(utc(2026, 11, 27, 18, 0), STOCK)  # 13:00 EST
    (session,) = nyse.sessions(utc(2026, 11, 27), utc(2026, 11, 28))
    assert session.close == utc(2026, 11, 27, 18, 0)
    assert nyse.previous_close(utc(2026, 11, 27, 19, 0), STOCK) == utc(2026, 11, 27, 18, 0)


def test_weekend_is_closed_between_friday_close_and_monday_open(nyse: NyseCalendar) -> None:
    saturday = utc(2026, 11, 21, 15, 0)
    assert not nyse.is_open(saturday, STOCK)
    assert nyse.previous_close(saturday, STOCK) == utc(2026, 11, 20, 21, 0)
    assert nyse.next_open(saturday, STOCK) == utc(2026, 11, 23, 14, 30)
    assert nyse.sessions(utc(2026, 11, 21), utc(2026, 11, 23)) == []


def test_open_market_reports_itself_and_no_previous_close(nyse: NyseCalendar) -> None:
    during = utc(2026, 11, 17, 16, 0)
    assert nyse.next_open(during, STOCK) == during
    assert nyse.previous_close(during, STOCK) is None


@pytest.mark.parametrize(
    "instant", [utc(2026, 11, 26, 17, 0), utc(2026, 11, 21, 3, 0), utc(2026, 12, 25, 12, 0)]
)
def test_crypto_never_closes(nyse: NyseCalendar, instant: datetime) -> None:
    assert nyse.is_open(instant, CRYPTO)
    assert nyse.next_open(instant, CRYPTO) == instant
    assert nyse.previous_close(instant, CRYPTO) is None


def test_naive_instants_are_refused(nyse: NyseCalendar) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        nyse.is_open(datetime(2026, 11, 17, 15, 0), STOCK)
