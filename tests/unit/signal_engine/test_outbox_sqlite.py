"""The SQLite outbox on a temporary directory: durable across reopen, bounded, ordered,
exclusive; the JSON codec round-trips a signal exactly."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest

from signal_engine.adapters.outbox import OUTBOX_FILE, SqliteOutbox
from signal_engine.adapters.outbox.codec import decode_signal, encode_signal
from signal_engine.domain import OutboxLocked

from .test_client_adapters import SIGNAL

pytestmark = pytest.mark.asyncio


def numbered(n: int):
    return replace(SIGNAL, signal_id=f"00000000-0000-4000-8000-{n:012d}", confidence=n / 3)


async def test_the_codec_round_trips_a_signal_exactly() -> None:
    odd = replace(SIGNAL, confidence=1 / 3, raw_confidence=0.1 + 0.2)
    assert decode_signal(encode_signal(odd)) == odd
    with pytest.raises(ValueError, match="version"):
        decode_signal('{"v": 99}')
    with pytest.raises(ValueError, match="malformed"):
        decode_signal("{not json")


async def test_entries_survive_a_reopen_in_order(tmp_path: Path) -> None:
    outbox = await SqliteOutbox.open(tmp_path / "outbox", capacity=100)
    stored = await outbox.append([numbered(1), numbered(2), numbered(3)])
    assert [e.signal for e in stored] == [numbered(1), numbered(2), numbered(3)]
    again = await outbox.append([numbered(2)])  # already waiting: stored once
    assert [e.entry_id for e in again] == [stored[1].entry_id] and outbox.depth == 3
    first = await outbox.peek(2)
    assert [e.signal for e in first] == [numbered(1), numbered(2)]
    await outbox.remove([first[0].entry_id])
    await outbox.aclose()  # (a SIGKILL leaves the same committed state)
    again = await SqliteOutbox.open(tmp_path / "outbox", capacity=100)
    assert again.depth == 2
    assert [e.signal for e in await again.peek(10)] == [numbered(2), numbered(3)]
    await again.aclose()


async def test_a_full_outbox_takes_what_fits_and_never_drops_waiting_entries(
    tmp_path: Path,
) -> None:
    outbox = await SqliteOutbox.open(tmp_path, capacity=3)
    assert len(await outbox.append([numbered(1), numbered(2)])) == 2
    assert len(await outbox.append([numbered(3), numbered(4), numbered(5)])) == 1
    assert await outbox.append([numbered(6)]) == []
    assert [e.signal.signal_id for e in await outbox.peek(10)] == [
        numbered(n).signal_id for n in (1, 2, 3)
    ]
    await outbox.aclose()


async def test_rejected_and_undecodable_entries_are_set_aside(tmp_path: Path) -> None:
    outbox = await SqliteOutbox.open(tmp_path, capacity=10)
    await outbox.append([numbered(1), numbered(2), numbered(3)])
    entries = await outbox.peek(10)
    await outbox.reject(entries[0].entry_id, "INVALID_ARGUMENT: bad signal")
    await outbox.aclose()
    with sqlite3.connect(tmp_path / OUTBOX_FILE) as db:  # damage one row on disk
        db.execute("UPDATE outbox SET payload = '{' WHERE entry_id = ?", (entries[1].entry_id,))
    again = await SqliteOutbox.open(tmp_path, capacity=10)
    assert [e.signal for e in await again.peek(10)] == [numbered(3)]
    assert again.depth == 1 and await again.rejected_count() == 2
    await again.aclose()


async def test_a_second_engine_cannot_share_the_directory(tmp_path: Path) -> None:
    outbox = await SqliteOutbox.open(tmp_path, capacity=10)
    with pytest.raises(OutboxLocked, match="another engine"):
        await SqliteOutbox.open(tmp_path, capacity=10)
    await outbox.aclose()
    reopened = await SqliteOutbox.open(tmp_path, capacity=10)  # free again after close
    await reopened.aclose()


async def test_the_file_is_in_wal_mode_with_full_sync(tmp_path: Path) -> None:
    outbox = await SqliteOutbox.open(tmp_path, capacity=10)
    await outbox.append([numbered(1)])
    with sqlite3.connect(tmp_path / OUTBOX_FILE) as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    await outbox.aclose()
