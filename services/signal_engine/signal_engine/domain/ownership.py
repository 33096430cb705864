"""Rendezvous (highest-random-weight) hashing: which live replica should own a symbol.

Every replica computes the same answer from the same member list, and when a member joins
or leaves only the symbols it wins or held move.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


def rendezvous_score(member: str, symbol: str) -> int:
    digest = hashlib.blake2b(f"{member}\x00{symbol}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def rendezvous_owner(symbol: str, members: Iterable[str]) -> str | None:
    """The member with the highest score for `symbol` (ties broken by name); None if none."""
    best: tuple[int, str] | None = None
    for member in members:
        candidate = (rendezvous_score(member, symbol), member)
        if best is None or candidate > best:
            best = candidate
    return best[1] if best else None
