"""open_store picks the adapter from DATABASE_URL; PostgreSQL down is StorageUnavailable."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracker.adapters.postgres_store import PostgresSignalStore
from tracker.adapters.sqlite_store import SqliteSignalStore
from tracker.adapters.store_factory import open_store
from tracker.domain import SignalFilter, StorageUnavailable


@pytest.mark.asyncio
async def test_sqlite_urls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    default = open_store(None)
    relative = open_store("sqlite:///state/t.db")
    absolute = open_store(f"sqlite:///{tmp_path}/abs/t.db")  # sqlite:////tmp/...
    for store in (default, relative, absolute):
        assert isinstance(store, SqliteSignalStore) and store.backend == "sqlite"
        await store.migrate()
        await store.aclose()
    assert (tmp_path / "var" / "tracker.db").exists()
    assert (tmp_path / "state" / "t.db").exists()
    assert (tmp_path / "abs" / "t.db").exists()


def test_postgres_urls() -> None:
    for url in ("postgresql://argo@db:5432/argo", "postgres://argo@db/argo"):
        store = open_store(url)
        assert isinstance(store, PostgresSignalStore) and store.backend == "postgresql"


@pytest.mark.parametrize("url", ["mysql://u:hunter2@db/x", "sqlite:///", "u:hunter2@db"])
def test_unsupported_urls_name_the_variable_not_the_password(url: str) -> None:
    with pytest.raises(ValueError, match="DATABASE_URL") as error:
        open_store(url)
    assert "hunter2" not in str(error.value)


@pytest.mark.asyncio
async def test_unreachable_postgres_is_storage_unavailable() -> None:
    store = open_store("postgresql://postgres@127.0.0.1:1/none", connect_timeout_seconds=2.0)
    with pytest.raises(StorageUnavailable, match="PostgreSQL is unavailable"):
        await store.query(SignalFilter(), 10, None)
    assert await store.ping() is False
    await store.aclose()
