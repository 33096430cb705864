"""Archiving: one UTC day of signals to a verified Parquet object, then pruning.

A run for day D (docs/decisions/0013-tracker-archive.md):
1. reads D's rows from the hot store, merged with what the archive already holds for D
   (rows pruned earlier); a hot row wins, it may have been resolved since;
2. encodes them as Parquet (and CSV when configured), writes the objects, reads them
   back and checks bytes (sha256), row count and signal ids, or raises ArchiveCorrupted;
3. writes manifest.json beside the object and records the manifest in the database;
4. when D is older than the retention period, marks the manifest pruned and only then
   deletes D's resolved rows that the verified object holds. Open rows stay hot and are
   archived again by a later run.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import date, timedelta

import structlog
from opentelemetry import trace

from tracker import telemetry
from tracker.app.storage import StorageCalls
from tracker.domain import (
    MAX_PAGE_SIZE,
    SEED_LIFECYCLE,
    ArchiveCorrupted,
    ArchiveManifest,
    ArchiveRun,
    Compression,
    DayPageToken,
    InvalidArgument,
    InvalidQuery,
    LifecycleTier,
    Outcome,
    SignalCursor,
    SignalFilter,
    TrackedSignal,
    archive_keys,
    day_bounds,
    day_of,
)
from tracker.ports import ArchiveCodec, ArchiveIndex, Clock, ObjectStore, SignalStore

log = structlog.get_logger(__name__)
tracer = trace.get_tracer(__name__)
_READ_PAGE = 5000


@dataclass(frozen=True, kw_only=True)
class ArchiveSettings:
    compression: Compression = Compression.ZSTD
    write_csv: bool = False
    retention_days: int = 30
    lifecycle: tuple[LifecycleTier, ...] = SEED_LIFECYCLE
    cached_days: int = 8  # decoded archive days kept for QuerySignals


class ArchiveService:
    def __init__(
        self,
        signals: SignalStore,
        index: ArchiveIndex,
        objects: ObjectStore,
        codec: ArchiveCodec,
        clock: Clock,
        settings: ArchiveSettings,
    ) -> None:
        self._signals = signals
        self._index = index
        self._objects = objects
        self._codec = codec
        self._clock = clock
        self.settings = settings
        self._storage = StorageCalls(clock)
        self._cache: OrderedDict[date, tuple[str, list[TrackedSignal]]] = OrderedDict()
        self._lifecycle_applied = False

    async def run(self, day: date) -> ArchiveRun:
        """Archive (and, past retention, prune) one day; safe to repeat."""
        start, end = day_bounds(day)
        now = self._clock.now()
        if end > now:
            raise InvalidArgument([("date", f"{day} is not over yet (UTC)")])
        try:
            with tracer.start_as_current_span("tracker.archive_day") as span:
                span.set_attribute("argo.archive.date", day.isoformat())
                result = await self._run(day, prune=end <= now - self._retention)
                span.set_attribute("argo.archive.rows", result.manifest.rows)
        except Exception:
            telemetry.ARCHIVE_FAILURES.inc()
            log.exception("archive_failed", date=day.isoformat())
            raise
        telemetry.ARCHIVE_RUNS.inc()
        telemetry.ARCHIVE_BYTES.inc(result.manifest.bytes + result.manifest.csv_bytes)
        telemetry.ARCHIVE_PRUNED.inc(result.pruned_rows)
        m = result.manifest
        log.info(
            "day_archived",
            date=day.isoformat(),
            rows=m.rows,
            bytes=m.bytes,
            pruned_rows=result.pruned_rows,
            location=m.location,
        )
        return result

    async def run_due(self) -> list[ArchiveRun]:
        """Yesterday, plus every hot day already past retention (archived and pruned)."""
        await self.ensure_lifecycle()
        now = self._clock.now()
        yesterday = day_of(now) - timedelta(days=1)
        cutoff = day_bounds(day_of(now - self._retention))[0]  # days before it are past it
        old_days = await self._storage("days_before", self._index.days_before(cutoff))
        return [await self.run(day) for day in sorted({*old_days, yesterday})]

    async def ensure_lifecycle(self) -> bool:
        """Apply the tiered storage lifecycle once per process (S3 only)."""
        if self._lifecycle_applied:
            return True
        applied = await self._objects.apply_lifecycle(self.settings.lifecycle, "signals/")
        self._lifecycle_applied = True
        log.info("archive_lifecycle_checked", applied=applied)
        return applied

    async def list_archives(
        self, first: date | None, last: date | None, page_size: int, page_token: str
    ) -> tuple[list[ArchiveManifest], str]:
        if not 0 <= page_size <= MAX_PAGE_SIZE:
            raise InvalidQuery([("page_size", f"must be within 0..{MAX_PAGE_SIZE}")])
        if first and last and last < first:
            raise InvalidQuery([("end_date", "must not be before start_date")])
        fingerprint = f"{first}:{last}"
        if page_token:
            token = DayPageToken.decode(page_token)
            if token.fingerprint != fingerprint:
                raise InvalidQuery([("page_token", "was issued for different dates")])
            last = token.day - timedelta(days=1)
        size = page_size or 100
        found = await self._storage(
            "list_manifests", self._index.list_manifests(first, last, size + 1)
        )
        page = found[:size]
        more = len(found) > size
        return page, DayPageToken(page[-1].day, fingerprint).encode() if more else ""

    async def pruned_days(self, first: date | None, last: date | None, limit: int) -> list[date]:
        found = await self._storage(
            "list_manifests", self._index.list_manifests(first, last, limit, pruned_only=True)
        )
        return [m.day for m in found]

    async def day_rows(self, day: date) -> list[TrackedSignal]:
        [manifest] = await self._storage("list_manifests", self._index.list_manifests(day, day, 1))
        cached = self._cache.get(day)
        if cached is not None and cached[0] == manifest.sha256:
            self._cache.move_to_end(day)
            return cached[1]
        data = await self._objects.get(archive_keys(day).data)
        if data is None or hashlib.sha256(data).hexdigest() != manifest.sha256:
            raise ArchiveCorrupted(f"archive object for {day} is missing or fails its sha256")
        rows = [replace(r, archived=True) for r in await self._codec.decode(data)]
        self._cache[day] = (manifest.sha256, rows)
        while len(self._cache) > self.settings.cached_days:
            self._cache.popitem(last=False)
        return rows

    @property
    def _retention(self) -> timedelta:
        return timedelta(days=self.settings.retention_days)

    async def _run(self, day: date, *, prune: bool) -> ArchiveRun:
        start, end = day_bounds(day)
        keys = archive_keys(day)
        rows = await self._merged_rows(day)
        data = await self._codec.encode(rows, self.settings.compression)
        digest = hashlib.sha256(data).hexdigest()
        await self._objects.put(keys.data, data)
        await self._verify(keys.data, digest, rows)
        csv_bytes = 0
        if self.settings.write_csv:
            csv = await self._codec.encode_csv(rows)
            await self._objects.put(keys.csv, csv)
            if await self._objects.get(keys.csv) != csv:
                raise ArchiveCorrupted(f"CSV copy of {day} does not read back as written")
            csv_bytes = len(csv)
        manifest = ArchiveManifest(
            day=day,
            rows=len(rows),
            bytes=len(data),
            sha256=digest,
            location=self._objects.url(keys.data),
            compression=self.settings.compression,
            archive_time=self._clock.now(),
            csv_location=self._objects.url(keys.csv) if self.settings.write_csv else "",
            csv_bytes=csv_bytes,
            pruned=prune,
        )
        await self._objects.put(keys.manifest, manifest.to_json().encode())
        # Recorded as pruned before deleting: from here on queries read the archive too.
        await self._storage("save_manifest", self._index.save_manifest(manifest))
        self._cache.pop(day, None)
        pruned_rows = 0
        if prune:
            final = [r.signal.signal_id for r in rows if r.outcome is not Outcome.OPEN]
            pruned_rows = await self._storage(
                "delete_signals", self._index.delete_signals(start, end, final)
            )
        return ArchiveRun(manifest=manifest, pruned_rows=pruned_rows)

    async def _merged_rows(self, day: date) -> list[TrackedSignal]:
        merged: dict[str, TrackedSignal] = {}
        previous = await self._index.list_manifests(day, day, 1)
        if previous and previous[0].pruned:  # rows were deleted: the archive holds them
            for row in await self.day_rows(day):
                merged[row.signal.signal_id] = replace(row, archived=False)
        for row in await self._hot_rows(day):
            merged[row.signal.signal_id] = row
        return sorted(merged.values(), key=lambda t: (t.signal.create_time, t.signal.signal_id))

    async def _hot_rows(self, day: date) -> list[TrackedSignal]:
        start, end = day_bounds(day)
        query = SignalFilter(start_time=start, end_time=end)
        rows: list[TrackedSignal] = []
        cursor: SignalCursor | None = None
        while True:
            page, cursor = await self._storage(
                "query", self._signals.query(query, _READ_PAGE, cursor)
            )
            rows.extend(page)
            if cursor is None:
                return rows

    async def _verify(self, key: str, digest: str, rows: list[TrackedSignal]) -> None:
        """Read the object back: same bytes, same row count, same signal ids."""
        stored = await self._objects.get(key)
        if stored is None or hashlib.sha256(stored).hexdigest() != digest:
            raise ArchiveCorrupted(f"{key} does not read back as written")
        decoded = await self._codec.decode(stored)
        if [r.signal.signal_id for r in decoded] != [r.signal.signal_id for r in rows]:
            raise ArchiveCorrupted(f"{key} decodes to different rows than were written")
