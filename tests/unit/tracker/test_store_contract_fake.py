"""The storage contract against the in-memory fake, so the fakes the app tests use behave
like the real adapters."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from .fakes import FakeSignalStore
from .store_contract import TrackerStoreContract


class TestFakeSignalStore(TrackerStoreContract):
    @pytest_asyncio.fixture
    async def store(self) -> AsyncIterator[FakeSignalStore]:
        fake = FakeSignalStore()
        yield fake
        await fake.aclose()
