"""Checked reads of one YAML mapping's values, each error naming the key's path.

The tunables parser (config_tunables.py) is built from these; a bad value raises ValueError,
e.g. `ttl.multipliers.sentiment: must be between 0.01 and 100, got -1`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import fields
from typing import Any

Raw = Mapping[str, Any]


def field_names(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(cls))


def read_bool(raw: Raw, key: str, path: str) -> bool:
    value = raw.get(key)
    if not isinstance(value, bool):
        raise ValueError(f"{path}.{key}: must be true or false, got {value!r}")
    return value


def read_section(raw: Raw, key: str, allowed: tuple[str, ...], *, path: str | None = None) -> Raw:
    name = path or key
    value = raw.get(key)
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValueError(f"{name}: must be a mapping, got {type(value).__name__}")
    for inner in value:
        if inner not in allowed:
            raise ValueError(f"{name}.{inner}: unknown key (known: {', '.join(allowed)})")
    return value


def read_number(
    raw: Raw, key: str, default: float, minimum: float, maximum: float, *, path: str | None = None
) -> float:
    name = path or key
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name}: must be a number, got {value!r}")
    number = float(value)
    if not math.isfinite(number) or not minimum <= number <= maximum:
        raise ValueError(f"{name}: must be between {minimum:g} and {maximum:g}, got {value!r}")
    return number
