"""Compare a simulated JSON body with a recorded one: same keys, same JSON types."""

from __future__ import annotations

import json
from typing import Any

from tests.conftest import PROVIDER_FIXTURES


def recorded(name: str) -> Any:
    """A recorded body; Yahoo files are whole exchanges with the body at response.bodyJson."""
    data = json.loads((PROVIDER_FIXTURES / name).read_text())
    if name.startswith("yahoo/recorded-"):
        return data["response"]["bodyJson"]
    return data


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def shape_errors(
    ours: Any,
    theirs: Any,
    *,
    path: str = "$",
    optional: frozenset[str] = frozenset(),
    keyed: frozenset[str] = frozenset(),
    nullable: frozenset[str] = frozenset(),
) -> list[str]:
    """Where `ours` lacks a key of `theirs` or has another JSON type; `null` in `theirs`
    matches anything. Paths in `keyed` are maps keyed by symbol or date: every value of
    ours is compared with the first recorded value. Keys in `optional` may be missing; keys
    in `nullable` may be null (the provider sends both)."""
    rules = {"optional": optional, "keyed": keyed, "nullable": nullable}
    if theirs is None:
        return []
    if isinstance(theirs, dict):
        if not isinstance(ours, dict):
            return [f"{path}: expected an object, got {_kind(ours)}"]
        if path in keyed:
            sample = next(iter(theirs.values()))
            return [
                error
                for key, value in ours.items()
                for error in shape_errors(value, sample, path=f"{path}.*", **rules)
            ] or ([] if ours else [f"{path}: empty"])
        errors: list[str] = []
        for key, value in theirs.items():
            if key not in ours:
                if key not in optional:
                    errors.append(f"{path}.{key}: missing")
                continue
            if ours[key] is None and key in nullable:
                continue
            errors += shape_errors(ours[key], value, path=f"{path}.{key}", **rules)
        return errors
    if isinstance(theirs, list):
        if not isinstance(ours, list):
            return [f"{path}: expected a list, got {_kind(ours)}"]
        samples = [item for item in theirs if item is not None]
        if not samples:
            return []
        return [
            error
            for item in ours
            for error in shape_errors(item, samples[0], path=f"{path}[]", **rules)
        ]
    if ours is not None and _kind(ours) != _kind(theirs):
        return [f"{path}: expected {_kind(theirs)}, got {_kind(ours)} ({ours!r})"]
    if ours is None:
        return [f"{path}: null where the recording has {_kind(theirs)}"]
    return []
