"""SQLite adapter: the shared storage contract plus what is specific to SQLite."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from tracker.adapters.migrations.sqlite_runner import split_statements
from tracker.adapters.sqlite_store import SqliteSignalStore
from tracker.domain import SignalFilter, StorageUnavailable

from .factories import T0, make_series
from .store_contract import TrackerStoreContract

MIGRATIONS = [
    (1, "signals"),
    (2, "outcome_tracking"),
    (3, "calibrations_archives"),
    (4, "analytics_views"),
]


class TestSqliteSignalStore(TrackerStoreContract):
    @pytest_asyncio.fixture
    async def store(self, tmp_path: Path) -> AsyncIterator[SqliteSignalStore]:
        sqlite_store = SqliteSignalStore(tmp_path / "var" / "tracker.db")
        await sqlite_store.migrate()
        yield sqlite_store
        await sqlite_store.aclose()


def read_db(path: Path, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as db:
        return db.execute(sql).fetchall()


@pytest.mark.asyncio
async def test_creates_parent_dir_uses_wal_and_records_migrations_once(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "dir" / "tracker.db"
    for _ in range(2):
        store = SqliteSignalStore(path)
        await store.migrate()
        await store.aclose()
    assert read_db(path, "PRAGMA journal_mode") == [("wal",)]
    assert read_db(path, "SELECT version, name FROM schema_migrations") == MIGRATIONS
    indexes = {row[0] for row in read_db(path, "SELECT name FROM sqlite_master WHERE type='index'")}
    assert {
        "signals_confidence_idx",
        "signals_create_time_idx",
        "signals_symbol_time_idx",
        "signals_symbol_outcome_idx",
        "signals_time_outcome_idx",
        "signals_symbol_time_confidence_idx",
    } <= indexes


@pytest.mark.asyncio
async def test_concurrent_runners_migrate_one_file_once(tmp_path: Path) -> None:
    path = tmp_path / "tracker.db"
    stores = [SqliteSignalStore(path) for _ in range(3)]
    await asyncio.gather(*(s.migrate() for s in stores))
    for s in stores:
        await s.aclose()
    assert read_db(path, "SELECT count(*) FROM schema_migrations") == [(len(MIGRATIONS),)]


@pytest.mark.asyncio
async def test_data_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "tracker.db"
    first = SqliteSignalStore(path)
    await first.record(make_series(3), record_time=T0)
    await first.aclose()
    second = SqliteSignalStore(path)
    rows, _ = await second.query(SignalFilter(), 10, None)  # connects and migrates lazily
    await second.aclose()
    assert len(rows) == 3


@pytest.mark.asyncio
async def test_times_are_integer_microseconds(tmp_path: Path) -> None:
    path = tmp_path / "tracker.db"
    store = SqliteSignalStore(path)
    [signal] = make_series(1)
    await store.record([signal], record_time=T0)
    await store.aclose()
    [(create_time,)] = read_db(path, "SELECT create_time FROM signals")
    assert create_time == int(signal.create_time.timestamp()) * 1_000_000


@pytest.mark.asyncio
async def test_in_memory_database_works(tmp_path: Path) -> None:
    store = SqliteSignalStore(":memory:")
    assert (await store.record(make_series(2), record_time=T0)).accepted == 2
    rows, _ = await store.query(SignalFilter(), 10, None)
    await store.aclose()
    assert len(rows) == 2


@pytest.mark.asyncio
async def test_unopenable_path_is_storage_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where a directory should be")
    store = SqliteSignalStore(blocker / "tracker.db")
    with pytest.raises(StorageUnavailable, match="unavailable"):
        await store.migrate()
    assert await store.ping() is False
    await store.aclose()


def test_split_statements_keeps_multi_line_statements_whole() -> None:
    script = "-- heading\nCREATE TABLE a (x INTEGER);\nCREATE INDEX i\n  ON a (x);\n-- trailing\n"
    assert split_statements(script) == [
        "-- heading\nCREATE TABLE a (x INTEGER);",
        "CREATE INDEX i\n  ON a (x);",
    ]
    with pytest.raises(ValueError, match="incomplete"):
        split_statements("CREATE TABLE b (x INTEGER)")
