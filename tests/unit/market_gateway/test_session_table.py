"""The calendar adapter over service_runtime.session_table: pandas stays out of this
process, and a failing child falls back to building the table here."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from market_gateway.adapters.calendar import NyseCalendar
from service_runtime import session_table


def test_loading_the_calendar_never_imports_pandas_here() -> None:
    probe = (
        "import asyncio, sys\n"
        "from market_gateway.adapters.calendar import NyseCalendar\n"
        "asyncio.run(NyseCalendar.load(2026, 2026))\n"
        "print('pandas' in sys.modules, 'exchange_calendars' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines()[-1].split() == ["False", "False"]  # (logs come first)


@pytest.mark.asyncio
async def test_a_failing_child_falls_back_to_building_in_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(session_table.sys, "executable", "/nonexistent/python")
    calendar = await NyseCalendar.load(2026, 2026)
    day = datetime(2026, 11, 17, tzinfo=UTC)
    assert len(calendar.sessions(day, day + timedelta(days=1))) == 1
