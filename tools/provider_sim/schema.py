"""Build frozen dataclasses from parsed YAML/JSON and back, naming the bad key on errors.

Supports the field types the simulator's config uses: bool, int, float, str, date, None
unions, tuples of a type, dict[str, int] and nested dataclasses.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping
from datetime import date
from typing import Any, TypeVar

T = TypeVar("T")


def build(cls: type[T], raw: Any, path: str) -> T:
    """An instance of dataclass `cls` from a mapping; missing keys keep their defaults."""
    if not isinstance(raw, Mapping):
        raise ValueError(f"{path}: must be a mapping, got {type(raw).__name__}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    for key in raw:
        if key not in names:
            raise ValueError(f"{path}.{key}: unknown key (known: {', '.join(names)})")
    values = {key: _convert(hints[key], value, f"{path}.{key}") for key, value in raw.items()}
    try:
        return cls(**values)
    except (TypeError, ValueError) as e:  # a required field is missing, a check failed
        raise ValueError(f"{path}: {e}") from None


def dump(value: Any) -> Any:
    """JSON-ready data of a config dataclass."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: dump(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, tuple | list):
        return [dump(item) for item in value]
    if isinstance(value, Mapping):
        return {key: dump(item) for key, item in value.items()}
    if isinstance(value, date):
        return value.isoformat()
    return value


def _convert(hint: Any, value: Any, path: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):
        options = typing.get_args(hint)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _convert(option, value, path)
            except ValueError as e:
                errors.append(str(e))
        raise ValueError(errors[0] if len(errors) == 1 else f"{path}: unexpected {value!r}")
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ValueError(f"{path}: must be a list, got {value!r}")
        item_type = typing.get_args(hint)[0]
        return tuple(_convert(item_type, item, f"{path}[{i}]") for i, item in enumerate(value))
    if origin is dict:
        if not isinstance(value, Mapping):
            raise ValueError(f"{path}: must be a mapping, got {value!r}")
        _, item_type = typing.get_args(hint)
        return {str(k): _convert(item_type, v, f"{path}.{k}") for k, v in value.items()}
    if dataclasses.is_dataclass(hint):
        return build(hint, value, path)  # type: ignore[arg-type]
    return _scalar(hint, value, path)


def _scalar(hint: Any, value: Any, path: str) -> Any:
    if hint is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{path}: must be true or false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"{path}: must be an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{path}: must be a number, got {value!r}")
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"{path}: must be a finite number >= 0, got {value!r}")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ValueError(f"{path}: must be a string, got {value!r}")
        return value
    if hint is date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            raise ValueError(f"{path}: must be YYYY-MM-DD, got {value!r}") from None
    raise ValueError(f"{path}: unsupported type {hint!r}")  # pragma: no cover
