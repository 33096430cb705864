"""Signals <-> the JSON text stored in the outbox (version 1).

JSON keeps the file readable with the sqlite3 shell; floats round-trip exactly (Python
writes the shortest repr that reads back to the same double).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from signal_engine.domain import Action, CacheStatus, Regime, Signal, SourceContribution

VERSION = 1


def _contribution(part: SourceContribution) -> dict[str, Any]:
    return {
        "source": part.source,
        "direction": part.direction,
        "confidence": part.confidence,
        "weight": part.weight,
        "data_age_ms": part.data_age_ms,
        "provider": part.provider,
        "cache_status": part.cache_status.value,
        "raw_contribution": part.raw_contribution,
        "contribution": part.contribution,
    }


def encode_signal(signal: Signal) -> str:
    return json.dumps(
        {
            "v": VERSION,
            "signal_id": signal.signal_id,
            "symbol": signal.symbol,
            "action": signal.action.value,
            "confidence": signal.confidence,
            "raw_confidence": signal.raw_confidence,
            "entry_price": signal.entry_price,
            "target_price": signal.target_price,
            "stop_price": signal.stop_price,
            "create_time": signal.create_time.isoformat(),
            "expire_time": signal.expire_time.isoformat(),
            "regime": signal.regime.value,
            "lineage": [_contribution(p) for p in signal.lineage],
            "trace_id": signal.trace_id,
            "reused": signal.reused,
            "stale": signal.stale,
        },
        separators=(",", ":"),
        allow_nan=False,
    )


def decode_signal(text: str) -> Signal:
    """The stored signal; raise ValueError when the text is not a version-1 signal."""
    try:
        raw = json.loads(text)
        if raw.get("v") != VERSION:
            raise ValueError(f"unknown outbox record version {raw.get('v')!r}")
        return Signal(
            signal_id=raw["signal_id"],
            symbol=raw["symbol"],
            action=Action(raw["action"]),
            confidence=float(raw["confidence"]),
            raw_confidence=float(raw["raw_confidence"]),
            entry_price=float(raw["entry_price"]),
            target_price=float(raw["target_price"]),
            stop_price=float(raw["stop_price"]),
            create_time=datetime.fromisoformat(raw["create_time"]),
            expire_time=datetime.fromisoformat(raw["expire_time"]),
            regime=Regime(raw["regime"]),
            lineage=tuple(
                SourceContribution(
                    source=p["source"],
                    direction=float(p["direction"]),
                    confidence=float(p["confidence"]),
                    weight=float(p["weight"]),
                    data_age_ms=int(p["data_age_ms"]),
                    provider=p["provider"],
                    cache_status=CacheStatus(p["cache_status"]),
                    raw_contribution=float(p["raw_contribution"]),
                    contribution=float(p["contribution"]),
                )
                for p in raw["lineage"]
            ),
            trace_id=raw["trace_id"],
            reused=bool(raw["reused"]),
            stale=bool(raw["stale"]),
        )
    except (KeyError, TypeError, AttributeError, json.JSONDecodeError) as e:
        raise ValueError(f"malformed outbox record: {e!r}") from e
