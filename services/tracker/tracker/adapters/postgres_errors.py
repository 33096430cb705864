"""The one place where asyncpg failures become StorageUnavailable (or stay bugs)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import asyncpg

from tracker.domain import StorageUnavailable

# Failures that mean "PostgreSQL cannot serve now" (connection lost or refused, server
# shutting down, statement timeout, too many connections, serialization failure, wrong
# credentials or database while it is being provisioned); anything else is a bug.
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError,
    TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.CannotConnectNowError,
    asyncpg.OperatorInterventionError,
    asyncpg.InsufficientResourcesError,
    asyncpg.TransactionRollbackError,
    asyncpg.InvalidAuthorizationSpecificationError,
    asyncpg.InvalidCatalogNameError,
)


@contextlib.contextmanager
def translate_errors() -> Iterator[None]:
    """The one choke point turning asyncpg failures into StorageUnavailable (or not)."""
    try:
        yield
    except _UNAVAILABLE as e:
        raise StorageUnavailable(f"PostgreSQL is unavailable: {type(e).__name__}: {e}") from e
