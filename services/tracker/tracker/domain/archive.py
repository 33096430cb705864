"""Archive value objects: manifests, object keys, the tiered storage lifecycle.

One UTC day of signals lives under `signals/date=YYYY-MM-DD/`: `signals.parquet`, an
optional `signals.csv`, and `manifest.json` (rows, bytes, sha256 of the Parquet object).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

ARCHIVE_PREFIX = "signals/"


class Compression(StrEnum):
    ZSTD = "zstd"
    SNAPPY = "snappy"


@dataclass(frozen=True, kw_only=True)
class ArchiveManifest:
    """What one archived day holds and where; written after the object is verified."""

    day: date
    rows: int
    bytes: int
    sha256: str
    location: str
    compression: Compression
    archive_time: datetime
    csv_location: str = ""
    csv_bytes: int = 0
    pruned: bool = False

    def to_json(self) -> str:
        return json.dumps(
            {
                "date": self.day.isoformat(),
                "rows": self.rows,
                "bytes": self.bytes,
                "sha256": self.sha256,
                "location": self.location,
                "compression": self.compression.value,
                "archive_time": self.archive_time.isoformat(),
                "csv_location": self.csv_location,
                "csv_bytes": self.csv_bytes,
            },
            indent=2,
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> ArchiveManifest:
        raw: dict[str, Any] = json.loads(text)
        return cls(
            day=date.fromisoformat(raw["date"]),
            rows=int(raw["rows"]),
            bytes=int(raw["bytes"]),
            sha256=str(raw["sha256"]),
            location=str(raw["location"]),
            compression=Compression(raw["compression"]),
            archive_time=datetime.fromisoformat(raw["archive_time"]),
            csv_location=str(raw.get("csv_location", "")),
            csv_bytes=int(raw.get("csv_bytes", 0)),
        )


@dataclass(frozen=True, kw_only=True)
class ArchiveRun:
    """The result of archiving one day: its manifest and what was pruned."""

    manifest: ArchiveManifest
    pruned_rows: int


@dataclass(frozen=True)
class ArchiveKeys:
    data: str
    csv: str
    manifest: str


def archive_keys(day: date) -> ArchiveKeys:
    folder = f"{ARCHIVE_PREFIX}date={day.isoformat()}/"
    return ArchiveKeys(folder + "signals.parquet", folder + "signals.csv", folder + "manifest.json")


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of the UTC day."""
    start = datetime.combine(day, time(0), tzinfo=UTC)
    return start, start + timedelta(days=1)


def day_of(instant: datetime) -> date:
    return instant.astimezone(UTC).date()


@dataclass(frozen=True)
class LifecycleTier:
    """Objects move to `storage_class` once they are `after_days` old."""

    after_days: int
    storage_class: str


# The seed system's tiers: Standard for 30 days, Standard-IA until 1 year, Glacier until
# 7 years, Deep Archive after that.
SEED_LIFECYCLE: tuple[LifecycleTier, ...] = (
    LifecycleTier(30, "STANDARD_IA"),
    LifecycleTier(365, "GLACIER"),
    LifecycleTier(7 * 365, "DEEP_ARCHIVE"),
)
