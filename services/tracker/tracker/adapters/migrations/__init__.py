"""Versioned schema migrations, one folder per SQL dialect.

Files are named `NNNN_description.sql` and applied in version order; each adapter's runner
records applied versions in `schema_migrations` so a restart applies only what is new.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

_FILE_RE = re.compile(r"(\d{4})_(\w+)\.sql")


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str


def load_migrations(dialect: str) -> list[Migration]:
    """The dialect's migrations ("sqlite" or "postgres"), ascending by version."""
    folder = resources.files(__package__).joinpath(dialect)
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _FILE_RE.fullmatch(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text(encoding="utf-8")))
    found.sort(key=lambda m: m.version)
    if len({m.version for m in found}) != len(found):
        raise RuntimeError(f"duplicate migration versions in {dialect}")
    return found
