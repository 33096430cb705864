"""Pick the SignalStore adapter from DATABASE_URL."""

from __future__ import annotations

from tracker.adapters.postgres_ingest import IngestMethod
from tracker.adapters.postgres_store import PostgresSignalStore
from tracker.adapters.sqlite_connection import DEFAULT_PATH
from tracker.adapters.sqlite_store import SqliteSignalStore
from tracker.ports import TrackerStore

_SQLITE_PREFIX = "sqlite:///"


def open_store(
    database_url: str | None,
    *,
    statement_timeout_ms: int = 5000,
    pool_max: int = 10,
    connect_timeout_seconds: float = 5.0,
    ingest_method: str = "copy",
) -> TrackerStore:
    """A store for the URL; nothing connects until first use.

    None or "" -> SQLite at ./var/tracker.db; `sqlite:///relative/path`,
    `sqlite:////absolute/path` or `sqlite:///:memory:` -> SQLite;
    `postgresql://...` / `postgres://...` -> PostgreSQL. Anything else raises ValueError
    naming only the scheme (a URL may carry a password).
    """
    if not database_url:
        return SqliteSignalStore(DEFAULT_PATH)
    if database_url.startswith(_SQLITE_PREFIX):
        path = database_url.removeprefix(_SQLITE_PREFIX)
        if not path:
            raise ValueError("DATABASE_URL: sqlite URL needs a path, e.g. sqlite:///var/tracker.db")
        return SqliteSignalStore(path)
    scheme, separator, _ = database_url.partition("://")
    if scheme in ("postgresql", "postgres"):
        return PostgresSignalStore(
            database_url,
            statement_timeout_ms=statement_timeout_ms,
            pool_min=1,
            pool_max=pool_max,
            connect_timeout_seconds=connect_timeout_seconds,
            ingest=IngestMethod(ingest_method),
        )
    shown = repr(scheme) if separator else "(no scheme://)"
    raise ValueError(
        f"DATABASE_URL: unsupported scheme {shown}; use postgresql://... or sqlite:///path"
    )
