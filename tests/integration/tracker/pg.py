"""Helpers shared by the tracker's PostgreSQL integration tests."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from tracker.adapters.postgres_store import PostgresSignalStore

StoreFactory = Callable[..., Awaitable[PostgresSignalStore]]

MIGRATIONS = [
    (1, "signals"),
    (2, "outcome_tracking"),
    (3, "calibrations_archives"),
    (4, "analytics_views"),
]


def with_search_path(url: str, schema: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}search_path={schema}"
