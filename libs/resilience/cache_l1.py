"""Cache entries, TTL policy results, and the in-process LRU tier bounded by entries AND bytes.

Hand-written: `functools.lru_cache`/cachetools bound entries only (cachetools' `getsizeof`
bounds one measure, not both) and know nothing of fresh/stale instants shared with Redis.
Times are epoch seconds so an entry means the same thing in every replica and in L2.
`Ttl` follows HTTP's RFC 5861 vocabulary (as cashews' `early`/`failover` do): `fresh`
seconds, then `stale_while_revalidate` seconds during which the stale value is served while
one background refresh runs, and `stale_if_error` seconds during which it is served if
loading fails.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from resilience.metrics import CACHE_L1_BYTES, CACHE_L1_EVICTIONS


@dataclass(frozen=True, slots=True)
class Ttl:
    """How long an entry is fresh, and how long after that it may still be served stale."""

    fresh: float
    stale_while_revalidate: float = 0.0
    stale_if_error: float = 0.0

    def __post_init__(self) -> None:
        if self.fresh < 0 or self.stale_while_revalidate < 0 or self.stale_if_error < 0:
            raise ValueError(f"TTLs must be >= 0 (got {self})")


@dataclass(frozen=True, slots=True)
class Entry:
    """A cached value with its lifetime instants (epoch seconds) and encoded size."""

    value: Any
    stored_at: float
    fresh_until: float
    stale_until: float
    error_until: float
    size: int

    @classmethod
    def create(cls, value: Any, now: float, ttl: Ttl, size: int) -> Entry:
        fresh_until = now + ttl.fresh
        stale_until = fresh_until + ttl.stale_while_revalidate
        error_until = fresh_until + max(ttl.stale_while_revalidate, ttl.stale_if_error)
        return cls(value, now, fresh_until, stale_until, error_until, size)


class LruTier:
    """Least-recently-used entries, evicted beyond `max_entries` or `max_bytes`."""

    def __init__(self, name: str, *, max_entries: int, max_bytes: int) -> None:
        if max_entries < 1 or max_bytes < 1:
            raise ValueError("max_entries and max_bytes must be >= 1")
        self._entries: OrderedDict[str, Entry] = OrderedDict()
        self._max_entries = max_entries
        self._max_bytes = max_bytes
        self.bytes = 0
        self._bytes_gauge = CACHE_L1_BYTES.labels(name)
        self._evictions = CACHE_L1_EVICTIONS.labels(name)

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str, now: float) -> Entry | None:
        """The entry if it may still be served in some way (else it is dropped)."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        if now >= entry.error_until:
            self.delete(key)
            return None
        self._entries.move_to_end(key)
        return entry

    def put(self, key: str, entry: Entry) -> None:
        self.delete(key)
        if entry.size > self._max_bytes:
            return  # larger than the whole tier: L2 only
        self._entries[key] = entry
        self.bytes += entry.size
        while len(self._entries) > self._max_entries or self.bytes > self._max_bytes:
            _, evicted = self._entries.popitem(last=False)
            self.bytes -= evicted.size
            self._evictions.inc()
        self._bytes_gauge.set(self.bytes)

    def delete(self, key: str) -> None:
        entry = self._entries.pop(key, None)
        if entry is not None:
            self.bytes -= entry.size
            self._bytes_gauge.set(self.bytes)
