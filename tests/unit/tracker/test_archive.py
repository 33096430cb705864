"""Archiving over a fake store and a real local directory: round trip byte-verified,
corruption detected, pruning only after verification, queries across hot and archive."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
import pytest_asyncio

from service_runtime.clock import FakeClock
from tracker.adapters.object_store.local import LocalDirectoryStore
from tracker.adapters.parquet_codec import decode_parquet
from tracker.app import ArchiveSettings
from tracker.bootstrap import Components, build_components
from tracker.config import load_settings
from tracker.domain import (
    SEED_LIFECYCLE,
    ArchiveCorrupted,
    Compression,
    InvalidArgument,
    Outcome,
    OutcomeResolution,
    Signal,
    SignalFilter,
    TrackedSignal,
    archive_keys,
)

from .factories import T0, make_series, make_signal
from .fakes import FakeObjectStore, FakePriceSource, FakeSignalStore

DAY = T0.date()  # 2026-11-17


@pytest_asyncio.fixture
async def components(
    fake_store: FakeSignalStore, tmp_path: Path, clock: FakeClock
) -> AsyncIterator[Components]:
    clock.set(T0 + timedelta(days=1))
    settings = load_settings({"ARCHIVE_URL": f"file://{tmp_path}/archive", "ARCHIVE_CSV": "true"})
    c = await build_components(settings, clock=clock, store=fake_store, prices=FakePriceSource())
    yield c
    await c.exit_stack.aclose()


async def resolve_all(store: FakeSignalStore, signals: list[Signal]) -> None:
    for s in signals:
        await store.resolve(
            OutcomeResolution(
                signal_id=s.signal_id,
                outcome=Outcome.WIN,
                exit_price=s.target_price,
                exit_time=s.create_time + timedelta(minutes=5),
                pnl_percent=2.0,
            )
        )


async def all_pages(c: Components, query: SignalFilter, size: int) -> list[TrackedSignal]:
    rows: list[TrackedSignal] = []
    token = ""
    while True:
        page = await c.tracker.query_signals(query, size, token)
        rows.extend(page.signals)
        token = page.next_page_token
        if not token:
            return rows


@pytest.mark.asyncio
async def test_a_day_round_trips_byte_verified(
    components: Components, fake_store: FakeSignalStore, tmp_path: Path
) -> None:
    signals = make_series(40)
    other_day = make_signal(create_time=T0 - timedelta(days=1))
    await components.tracker.record_signals([*signals, other_day])
    await resolve_all(fake_store, signals[:30])
    run = await components.archive.run(DAY)
    m = run.manifest
    data_path = tmp_path / "archive" / archive_keys(DAY).data
    data = data_path.read_bytes()
    assert (m.rows, m.bytes, m.sha256) == (40, len(data), hashlib.sha256(data).hexdigest())
    assert m.location == f"file://{data_path}"
    assert m.compression is Compression.ZSTD and run.pruned_rows == 0  # within retention
    assert {t.signal.signal_id for t in decode_parquet(data)} == {s.signal_id for s in signals}
    in_order = sorted(signals, key=lambda s: (s.create_time, s.signal_id))
    assert decode_parquet(data) == [fake_store.rows[s.signal_id] for s in in_order]
    csv = (tmp_path / "archive" / archive_keys(DAY).csv).read_bytes()
    assert m.csv_bytes == len(csv) and csv.count(b"\n") == 41  # header + rows
    manifest_json = (tmp_path / "archive" / archive_keys(DAY).manifest).read_text()
    assert f'"sha256": "{m.sha256}"' in manifest_json
    assert len(fake_store.rows) == 41  # nothing pruned


@pytest.mark.asyncio
async def test_every_field_survives_the_archive(
    components: Components, fake_store: FakeSignalStore
) -> None:
    signals = make_series(3)
    await components.tracker.record_signals(signals)
    await resolve_all(fake_store, signals[:1])
    await components.archive.run(DAY)
    archived = await components.archive.day_rows(DAY)
    hot = sorted(fake_store.rows.values(), key=lambda t: (t.signal.create_time, t.signal.signal_id))
    assert [a.signal for a in archived] == [h.signal for h in hot]
    assert [
        (a.outcome, a.exit_price, a.exit_time, a.pnl_percent, a.record_time) for a in archived
    ] == [(h.outcome, h.exit_price, h.exit_time, h.pnl_percent, h.record_time) for h in hot]
    assert all(a.archived for a in archived)


@pytest.mark.asyncio
async def test_a_corrupted_object_is_detected_and_blocks_a_rerun(
    components: Components, fake_store: FakeSignalStore, tmp_path: Path, clock: FakeClock
) -> None:
    signals = make_series(10)
    await components.tracker.record_signals(signals)
    await resolve_all(fake_store, signals)
    clock.set(T0 + timedelta(days=40))  # past retention: archived, then pruned
    run = await components.archive.run(DAY)
    assert run.pruned_rows == 10 and fake_store.rows == {}
    path = tmp_path / "archive" / archive_keys(DAY).data
    damaged = bytearray(path.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    path.write_bytes(bytes(damaged))
    components.archive._cache.clear()  # a fresh replica reads from the object store
    with pytest.raises(ArchiveCorrupted):
        await components.archive.day_rows(DAY)
    with pytest.raises(ArchiveCorrupted):  # a re-run must not overwrite the only copy
        await components.archive.run(DAY)
    with pytest.raises(ArchiveCorrupted):
        await all_pages(components, SignalFilter(), 100)


@pytest.mark.asyncio
async def test_nothing_is_pruned_when_the_written_object_does_not_verify(
    fake_store: FakeSignalStore, clock: FakeClock
) -> None:
    class Truncating(FakeObjectStore):
        async def put(self, key: str, data: bytes) -> None:
            await super().put(key, data[:-7])

    clock.set(T0 + timedelta(days=40))
    c = await build_components(
        load_settings({}), clock=clock, store=fake_store, prices=FakePriceSource(),
        objects=Truncating(),
    )  # fmt: skip
    signals = make_series(5)
    await c.tracker.record_signals(signals)
    await resolve_all(fake_store, signals)
    with pytest.raises(ArchiveCorrupted):
        await c.archive.run(DAY)
    assert len(fake_store.rows) == 5 and fake_store.manifests == {}


@pytest.mark.asyncio
async def test_pruning_keeps_open_signals_and_a_rerun_merges_what_was_pruned(
    components: Components, fake_store: FakeSignalStore, clock: FakeClock
) -> None:
    signals = make_series(6)
    await components.tracker.record_signals(signals)
    await resolve_all(fake_store, signals[:4])
    clock.set(T0 + timedelta(days=31))
    first = await components.archive.run(DAY)
    assert (first.manifest.rows, first.pruned_rows, first.manifest.pruned) == (6, 4, True)
    assert set(fake_store.rows) == {s.signal_id for s in signals[4:]}  # still open: kept hot
    await resolve_all(fake_store, signals[4:])
    second = await components.archive.run(DAY)
    assert (second.manifest.rows, second.pruned_rows) == (6, 2)
    assert fake_store.rows == {}
    archived = await components.archive.day_rows(DAY)
    assert {t.outcome for t in archived} == {Outcome.WIN}  # the fresher hot rows won


@pytest.mark.asyncio
async def test_queries_read_across_hot_store_and_archive(
    components: Components, fake_store: FakeSignalStore, clock: FakeClock
) -> None:
    old = make_series(25, start=T0 - timedelta(days=40), ties=2)
    older = make_series(5, start=T0 - timedelta(days=41))
    recent = make_series(15, start=T0)
    await components.tracker.record_signals([*old, *older, *recent])
    await resolve_all(fake_store, [*old, *older])
    clock.set(T0 + timedelta(days=1))
    runs = await components.archive.run_due()
    assert {r.manifest.day for r in runs} == {
        (T0 - timedelta(days=41)).date(),
        (T0 - timedelta(days=40)).date(),
        DAY,  # yesterday
    }
    assert len(fake_store.rows) == 15  # both old days pruned
    rows = await all_pages(components, SignalFilter(), 7)
    everything = sorted([*old, *older, *recent], key=lambda s: (s.create_time, s.signal_id))
    assert [t.signal.signal_id for t in rows] == [s.signal_id for s in reversed(everything)]
    assert [t.archived for t in rows] == [False] * 15 + [True] * 30
    window = SignalFilter(
        start_time=T0 - timedelta(days=40, seconds=-3), end_time=T0 - timedelta(days=39)
    )
    in_window = await all_pages(components, window, 100)
    assert len(in_window) == 25 - 6  # seconds 3.. of the old day (two per second)
    recent_only = await components.tracker.query_signals(SignalFilter(), 10, "")
    assert not any(t.archived for t in recent_only.signals)
    exactly_hot = await components.tracker.query_signals(SignalFilter(), 15, "")
    assert not any(t.archived for t in exactly_hot.signals) and exactly_hot.next_page_token
    then_archive = await components.tracker.query_signals(
        SignalFilter(), 15, exactly_hot.next_page_token
    )
    assert len(then_archive.signals) == 15 and all(t.archived for t in then_archive.signals)


@pytest.mark.asyncio
async def test_listing_pages_newest_first(components: Components, clock: FakeClock) -> None:
    clock.set(T0 + timedelta(days=10))
    days = [DAY + timedelta(days=i) for i in range(5)]
    for day in days:
        await components.archive.run(day)
    first, token = await components.archive.list_archives(None, None, 2, "")
    second, token2 = await components.archive.list_archives(None, None, 2, token)
    third, token3 = await components.archive.list_archives(None, None, 2, token2)
    assert [m.day for m in first + second + third] == days[::-1] and token3 == ""
    bounded, _ = await components.archive.list_archives(days[1], days[2], 10, "")
    assert [m.day for m in bounded] == [days[2], days[1]]


@pytest.mark.asyncio
async def test_a_day_not_over_is_refused_and_lifecycle_applied_once(
    fake_store: FakeSignalStore, fake_objects: FakeObjectStore, clock: FakeClock
) -> None:
    c = await build_components(
        load_settings({}), clock=clock, store=fake_store, prices=FakePriceSource(),
        objects=fake_objects,
    )  # fmt: skip
    with pytest.raises(InvalidArgument):
        await c.archive.run(clock.now().date())
    await c.archive.run_due()
    await c.archive.run_due()
    assert fake_objects.lifecycle == [(SEED_LIFECYCLE, "signals/")]
    assert c.archive.settings == ArchiveSettings()
    assert [t.after_days for t in SEED_LIFECYCLE] == [30, 365, 2555]


def test_local_directory_keys_stay_inside_the_root(tmp_path: Path) -> None:
    store = LocalDirectoryStore(tmp_path)
    for key in ("../escape", "/etc/passwd", ""):
        with pytest.raises(ValueError):
            store.url(key)
    assert store.url("a/b.parquet") == f"file://{tmp_path}/a/b.parquet"


@pytest.mark.asyncio
async def test_local_directory_writes_atomically(tmp_path: Path) -> None:
    store = LocalDirectoryStore(tmp_path / "nested")
    assert await store.get("x/y.bin") is None
    await store.put("x/y.bin", b"first")
    await store.put("x/y.bin", b"second")
    assert await store.get("x/y.bin") == b"second"
    assert [p.name for p in (tmp_path / "nested" / "x").iterdir()] == ["y.bin"]  # no temp left
    assert await store.apply_lifecycle(SEED_LIFECYCLE, "signals/") is False
