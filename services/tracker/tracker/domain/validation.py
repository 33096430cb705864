"""Pure validation: every rule a signal or filter breaks, as (field path, description)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence

from tracker.domain.errors import InvalidSignal, Violation
from tracker.domain.model import (
    MAX_BATCH_SIZE,
    Action,
    Signal,
    SignalFilter,
    SourceContribution,
)

MAX_LINEAGE = 64
MAX_FILTER_SYMBOLS = 500
SYMBOL_RE = re.compile(r"[A-Z0-9][A-Z0-9.\-/]{0,31}")
UUID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
TRACE_ID_RE = re.compile(r"[0-9a-f]{32}")
_PathFn = Callable[[str], str]


def symbol_violation(symbol: str) -> str | None:
    if SYMBOL_RE.fullmatch(symbol):
        return None
    return "must be 1..32 of A-Z 0-9 . - / starting with a letter or digit, e.g. BTC-USD"


def _is_valid(s: Signal) -> bool:
    """One cheap pass over every rule (chained comparisons are False for NaN); the detailed
    check below runs only for a signal that fails it, so a clean batch costs little."""
    inf = math.inf
    if s.action is Action.BUY:
        sides = s.target_price > s.entry_price > s.stop_price
    elif s.action is Action.SELL:
        sides = s.target_price < s.entry_price < s.stop_price
    else:
        sides = s.action is Action.HOLD
    return bool(
        sides
        and UUID_RE.fullmatch(s.signal_id)
        and SYMBOL_RE.fullmatch(s.symbol)
        and 0.0 <= s.confidence <= 100.0
        and 0.0 <= s.raw_confidence <= 100.0
        and 0.0 < s.entry_price < inf
        and 0.0 < s.target_price < inf
        and 0.0 < s.stop_price < inf
        and s.create_time.tzinfo is not None
        and s.expire_time.tzinfo is not None
        and s.expire_time > s.create_time
        and (not s.trace_id or TRACE_ID_RE.fullmatch(s.trace_id))
        and len(s.lineage) <= MAX_LINEAGE
        and all(
            1 <= len(c.source) <= 64
            and -1.0 <= c.direction <= 1.0
            and 0.0 <= c.confidence <= 1.0
            and 0.0 <= c.weight <= 1.0
            and c.data_age_ms >= 0
            for c in s.lineage
        )
    )


def signal_violations(signal: Signal, path: str = "") -> list[Violation]:
    """Every rule the signal breaks, with paths relative to `path` (e.g. "signals[3]")."""
    if _is_valid(signal):
        return []

    def at(name: str) -> str:
        return f"{path}.{name}" if path else name

    found: list[Violation] = []
    if not UUID_RE.fullmatch(signal.signal_id):
        found.append((at("signal_id"), "must be a lowercase UUID like 8-4-4-4-12 hex digits"))
    if (problem := symbol_violation(signal.symbol)) is not None:
        found.append((at("symbol"), problem))
    if not isinstance(signal.action, Action):
        found.append((at("action"), "must be BUY, SELL or HOLD"))
    for name in ("confidence", "raw_confidence"):
        value = getattr(signal, name)
        if not (math.isfinite(value) and 0.0 <= value <= 100.0):
            found.append((at(name), f"must be within 0..100, got {value}"))
    prices_ok = True
    for name in ("entry_price", "target_price", "stop_price"):
        value = getattr(signal, name)
        if not (math.isfinite(value) and value > 0.0):
            found.append((at(name), f"must be a positive finite price, got {value}"))
            prices_ok = False
    if prices_ok:
        found.extend(_side_violations(signal, at))
    for name in ("create_time", "expire_time"):
        if getattr(signal, name).tzinfo is None:
            found.append((at(name), "must carry a timezone (UTC)"))
    if signal.create_time.tzinfo is not None and signal.expire_time.tzinfo is not None:
        if signal.expire_time <= signal.create_time:
            found.append((at("expire_time"), "must be after create_time"))
    if signal.trace_id and not TRACE_ID_RE.fullmatch(signal.trace_id):
        found.append((at("trace_id"), "must be empty or 32 lowercase hex digits"))
    if len(signal.lineage) > MAX_LINEAGE:
        found.append((at("lineage"), f"must hold at most {MAX_LINEAGE} contributions"))
    for i, part in enumerate(signal.lineage[:MAX_LINEAGE]):
        found.extend(_contribution_violations(part, at(f"lineage[{i}]")))
    return found


def _side_violations(signal: Signal, at: _PathFn) -> list[Violation]:
    """Target and stop must lie on the profitable / protective side of entry."""
    entry, target, stop = signal.entry_price, signal.target_price, signal.stop_price
    if signal.action is Action.BUY:
        checks = [(target > entry, "target_price", "above"), (stop < entry, "stop_price", "below")]
    elif signal.action is Action.SELL:
        checks = [(target < entry, "target_price", "below"), (stop > entry, "stop_price", "above")]
    else:
        return []
    return [
        (at(name), f"must be {side} entry_price for {signal.action.value}")
        for ok, name, side in checks
        if not ok
    ]


def _contribution_violations(part: SourceContribution, path: str) -> list[Violation]:
    found: list[Violation] = []
    if not 1 <= len(part.source) <= 64:
        found.append((f"{path}.source", "must be 1..64 characters"))
    bounds = {"direction": (-1.0, 1.0), "confidence": (0.0, 1.0), "weight": (0.0, 1.0)}
    for name, (low, high) in bounds.items():
        value = getattr(part, name)
        if not (math.isfinite(value) and low <= value <= high):
            found.append((f"{path}.{name}", f"must be within {low:g}..{high:g}, got {value}"))
    if part.data_age_ms < 0:
        found.append((f"{path}.data_age_ms", "must not be negative"))
    return found


def validate_batch(signals: Sequence[Signal]) -> None:
    """Raise InvalidSignal listing every violation of the batch (paths `signals[i].field`)."""
    if not 1 <= len(signals) <= MAX_BATCH_SIZE:
        raise InvalidSignal([("signals", f"must hold 1..{MAX_BATCH_SIZE} signals")])
    found: list[Violation] = []
    for i, signal in enumerate(signals):
        found.extend(signal_violations(signal, f"signals[{i}]"))
    if found:
        raise InvalidSignal(found)


def filter_violations(query: SignalFilter, path: str = "filter") -> list[Violation]:
    found: list[Violation] = []
    if len(query.symbols) > MAX_FILTER_SYMBOLS:
        found.append((f"{path}.symbols", f"must list at most {MAX_FILTER_SYMBOLS} symbols"))
    for symbol in sorted(query.symbols)[:MAX_FILTER_SYMBOLS]:
        if (problem := symbol_violation(symbol)) is not None:
            found.append((f"{path}.symbols", f"{symbol!r} {problem}"))
    if not (math.isfinite(query.min_confidence) and 0.0 <= query.min_confidence <= 100.0):
        found.append((f"{path}.min_confidence", "must be within 0..100"))
    for name in ("start_time", "end_time"):
        value = getattr(query, name)
        if value is not None and value.tzinfo is None:
            found.append((f"{path}.{name}", "must carry a timezone (UTC)"))
    start, end = query.start_time, query.end_time
    if start and end and start.tzinfo and end.tzinfo and end <= start:
        found.append((f"{path}.end_time", "must be after start_time"))
    return found
