"""The XNYS session table (opens and closes as epoch seconds) from exchange-calendars,
computed in a short-lived child process so that pandas never becomes resident here.

exchange-calendars pulls in pandas: building the table once costs ~90 MB of resident memory
for the rest of the process's life, to answer questions a sorted list of ~13 000 pairs
answers (decision 0017). `load_isolated()` runs this module as `python -m` and reads the
table as JSON from its stdout; when the child fails the table is built in a worker thread
(the old way: it works, it just keeps pandas resident). Shared by the gateway's and
the engine's calendar adapters.

    python -m service_runtime.session_table FIRST_YEAR LAST_YEAR
"""

from __future__ import annotations

import asyncio
import json
import sys
import warnings
from datetime import date

import structlog

log = structlog.get_logger(__name__)

SessionTable = tuple[list[int], list[int]]  # opens, closes (epoch seconds, ascending)
CHILD_TIMEOUT_SECONDS = 60.0


def build_in_process(first_year: int, last_year: int) -> SessionTable:
    """Load the XNYS sessions of [first_year, last_year] here (imports pandas)."""
    import exchange_calendars

    with warnings.catch_warnings():
        # exchange-calendars trips pandas deprecation warnings inside its constructor;
        # they are the library's to fix and say nothing about our use of it.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        calendar = exchange_calendars.get_calendar(
            "XNYS",
            start=date(first_year, 1, 1).isoformat(),
            end=date(last_year, 12, 31).isoformat(),
        )
        schedule = calendar.schedule
        opens = [int(ts.timestamp()) for ts in schedule["open"]]
        closes = [int(ts.timestamp()) for ts in schedule["close"]]
    return opens, closes


async def load_isolated(first_year: int, last_year: int) -> SessionTable:
    """The table from a child process; built in a worker thread if the child fails."""
    try:
        return await _from_child(first_year, last_year)
    except (OSError, ValueError, TimeoutError) as e:
        log.warning("session_table_child_failed", error=str(e))
        return await asyncio.to_thread(build_in_process, first_year, last_year)


async def _from_child(first_year: int, last_year: int) -> SessionTable:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        __name__,
        str(first_year),
        str(last_year),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(child.communicate(), CHILD_TIMEOUT_SECONDS)
    except TimeoutError:
        child.kill()
        await child.wait()
        raise
    if child.returncode != 0:
        raise ValueError(f"exit status {child.returncode}: {err.decode(errors='replace')[-500:]}")
    return parse_table(out)


def parse_table(raw: bytes) -> SessionTable:
    """Check and decode what the child printed: {"opens": [...], "closes": [...]}."""
    payload = json.loads(raw)
    opens, closes = payload.get("opens"), payload.get("closes")
    if not isinstance(opens, list) or not isinstance(closes, list) or len(opens) != len(closes):
        raise ValueError("session table is malformed")
    if not all(type(v) is int for v in (*opens, *closes)) or opens != sorted(opens):
        raise ValueError("session table holds something other than ascending epoch seconds")
    return opens, closes


def main(argv: list[str]) -> int:
    first_year, last_year = int(argv[0]), int(argv[1])
    opens, closes = build_in_process(first_year, last_year)
    sys.stdout.write(json.dumps({"opens": opens, "closes": closes}, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
