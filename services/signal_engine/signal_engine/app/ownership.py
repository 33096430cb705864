"""Ownership without Redis: one replica owns every configured symbol."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence


class AllSymbols:
    """The Ownership port for a lone replica."""

    def __init__(self, symbols: Sequence[str], replica_id: str = "single") -> None:
        self._symbols = frozenset(symbols)
        self._replica_id = replica_id

    @property
    def replica_id(self) -> str:
        return self._replica_id

    def owned(self) -> frozenset[str]:
        return self._symbols

    @contextlib.asynccontextmanager
    async def claim(self) -> AsyncIterator[frozenset[str]]:
        yield self._symbols

    async def keep(self) -> None:
        return None

    async def release(self) -> None:
        return None
