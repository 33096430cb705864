"""The calendar adapter over service_runtime.session_table: pandas stays out of this
process, and a failing child falls back to building the table here."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime

import pytest

from service_runtime import session_table
from signal_engine.adapters.nyse_calendar import NyseSessions


def test_loading_the_calendar_never_imports_pandas_here() -> None:
    probe = (
        "import asyncio, sys\n"
        "from signal_engine.adapters.nyse_calendar import NyseSessions\n"
        "from datetime import UTC, datetime\n"
        "asyncio.run(NyseSessions().stocks_open(datetime(2026, 11, 17, 15, tzinfo=UTC)))\n"
        "print('pandas' in sys.modules, 'exchange_calendars' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines()[-1].split() == ["False", "False"]  # (logs come first)


@pytest.mark.asyncio
async def test_a_failing_child_falls_back_to_building_in_process(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(session_table.sys, "executable", "/nonexistent/python")
    sessions = NyseSessions()
    assert await sessions.stocks_open(datetime(2026, 11, 17, 15, 30, tzinfo=UTC))
    assert not await sessions.stocks_open(datetime(2026, 11, 26, 15, 30, tzinfo=UTC))
