"""ObjectStore on a local directory (the default archive: ./var/archive).

Writes go to a temporary file in the target folder, are fsynced and renamed over the
key, so a reader sees the old object or the new one, never half of one. File I/O runs in
a worker thread.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from tracker.domain import ArchiveUnavailable, LifecycleTier

DEFAULT_ROOT = Path("var/archive")


class LocalDirectoryStore:
    def __init__(self, root: str | Path = DEFAULT_ROOT) -> None:
        self._root = Path(root)

    @property
    def root(self) -> Path:
        return self._root

    def url(self, key: str) -> str:
        """file:// plus the absolute path, unescaped (keys hold only safe characters)."""
        return "file://" + self._path(key).resolve().as_posix()

    async def put(self, key: str, data: bytes) -> None:
        await asyncio.to_thread(self._write, self._path(key), data)

    async def get(self, key: str) -> bytes | None:
        return await asyncio.to_thread(self._read, self._path(key))

    async def apply_lifecycle(self, tiers: Sequence[LifecycleTier], prefix: str) -> bool:
        return False  # a directory has no storage classes

    async def aclose(self) -> None:
        return None

    def _path(self, key: str) -> Path:
        relative = PurePosixPath(key)
        if relative.is_absolute() or ".." in relative.parts or not relative.parts:
            raise ValueError(f"object key must be a relative path without '..': {key!r}")
        return self._root.joinpath(*relative.parts)

    @staticmethod
    def _write(path: Path, data: bytes) -> None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
            try:
                with os.fdopen(fd, "wb") as handle:
                    handle.write(data)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as e:
            raise ArchiveUnavailable(f"cannot write {path}: {e}") from e

    @staticmethod
    def _read(path: Path) -> bytes | None:
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as e:
            raise ArchiveUnavailable(f"cannot read {path}: {e}") from e
