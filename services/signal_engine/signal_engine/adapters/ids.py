"""Signal ids: random UUIDs (the tracker deduplicates on them)."""

from __future__ import annotations

import uuid


class Uuid4Ids:
    def new_id(self) -> str:
        return str(uuid.uuid4())
