"""`python -m tracker.commands ...` in-process on SQLite and a local archive directory."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import structlog

from observability.redaction import Redactor
from tracker.adapters.sqlite_store import SqliteSignalStore
from tracker.commands import cli
from tracker.commands.cli import main
from tracker.domain import Outcome, OutcomeResolution

from .factories import make_series


def environment(tmp_path: Path) -> dict[str, str]:
    return {
        "DATABASE_URL": f"sqlite:///{tmp_path}/tracker.db",
        "ARCHIVE_URL": f"file://{tmp_path}/archive",
        "MARKET_GATEWAY_ADDR": "127.0.0.1:9",
        "LOG_FORMAT": "json",
    }


EVENTS: list[str] = []  # log events of the last run()


@pytest.fixture(autouse=True)
def keep_logging_as_is(monkeypatch: pytest.MonkeyPatch) -> None:
    """The commands configure process-wide logging; inside the test run they must not (it
    would bind every module's cached logger to this test's captured stderr)."""
    monkeypatch.setattr(cli, "configure_logging", lambda **_: Redactor())


def run(
    args: list[str], env: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    with structlog.testing.capture_logs() as logs:
        status = main(args, env)
    captured = capsys.readouterr()
    EVENTS[:] = [e["event"] for e in logs]
    return status, captured.out, captured.err


def seed(tmp_path: Path, count: int, *, days_ago: int = 3) -> None:
    async def write() -> None:
        store = SqliteSignalStore(tmp_path / "tracker.db")
        start = datetime.now(UTC) - timedelta(days=days_ago)
        signals = make_series(count, start=start)
        await store.record(signals, record_time=start)
        rng = random.Random(4)
        for s in signals:
            won = rng.random() < (s.raw_confidence - 40) / 100
            await store.resolve(
                OutcomeResolution(
                    signal_id=s.signal_id,
                    outcome=Outcome.WIN if won else Outcome.LOSS,
                    exit_price=s.target_price if won else s.stop_price,
                    exit_time=s.create_time + timedelta(hours=1),
                    pnl_percent=1.0 if won else -1.0,
                )
            )
        await store.aclose()

    asyncio.run(write())


def test_migrate_archive_and_list(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = environment(tmp_path)
    status, out, _ = run(["migrate"], env, capsys)
    assert status == 0 and json.loads(out)["backend"] == "sqlite"
    assert "schema_migration_applied" in EVENTS
    seed(tmp_path, 20, days_ago=2)
    day = (datetime.now(UTC) - timedelta(days=2)).date().isoformat()
    status, out, _ = run(["archive", "--date", day], env, capsys)
    assert status == 0
    [manifest] = json.loads(out)
    assert (manifest["date"], manifest["rows"], manifest["pruned_rows"]) == (day, 20, 0)
    assert (tmp_path / "archive" / f"signals/date={day}/signals.parquet").exists()
    status, out, _ = run(["archive"], env, capsys)  # yesterday, nothing past retention
    assert status == 0 and [m["rows"] for m in json.loads(out)] == [0]
    status, out, _ = run(["list-archives", "--limit", "5"], env, capsys)
    assert status == 0 and [m["rows"] for m in json.loads(out)] == [0, 20]


def test_calibrate_then_reliability_diagram(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = environment(tmp_path)
    status, _, err = run(["reliability-diagram", "--out", str(tmp_path / "r.png")], env, capsys)
    assert status == 1 and "no calibration fitted" in err
    seed(tmp_path, 400)
    status, out, _ = run(["calibrate"], env, capsys)
    fitted = json.loads(out)["fitted"]
    assert status == 0 and {f["symbol"] for f in fitted} == {"(global)", "AAPL"}
    png = tmp_path / "plots" / "aapl.png"
    status, out, _ = run(
        ["reliability-diagram", "--out", str(png), "--symbol", "AAPL"], env, capsys
    )
    assert status == 0 and json.loads(out)["written"] == str(png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_failures_and_bad_usage_exit_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = environment(tmp_path)
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    status, _, err = run(["archive", "--date", tomorrow], env, capsys)
    assert status == 2 and "not over yet" in err
    status, _, err = run(["migrate"], {**env, "ARCHIVE_URL": "ftp://x"}, capsys)
    assert status == 2 and "ARCHIVE_URL" in err
    with pytest.raises(SystemExit) as usage:
        main(["archive", "--date", "yesterday"], env)
    assert usage.value.code == 2
    assert "expected YYYY-MM-DD" in capsys.readouterr().err
    unreachable = {**env, "DATABASE_URL": "postgresql://nobody@127.0.0.1:9/none"}
    status, _, err = run(["migrate", "--wait", "0.3"], unreachable, capsys)
    assert status == 1 and "database unavailable" in err


def test_importing_the_commands_leaves_matplotlib_alone() -> None:
    from tracker.commands import diagram

    # matplotlib (and its backend choice) is imported inside the command function only.
    assert not {"matplotlib", "plt"} & set(vars(diagram))
