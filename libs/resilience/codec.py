"""How values cross process boundaries (L2 cache entries, cross-replica single-flight results).

Hand-written and deliberately small: a `Codec` is two functions. `JsonCodec` (default) handles
what JSON handles, with optional `default`/`object_hook` hooks for value objects; a service
with dataclass or protobuf values passes its own codec. Errors are encoded as a small JSON
record (type name, message, retry_after) because exceptions do not travel between processes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol

from resilience.errors import RemoteFlightFailed, retry_after_of


class Codec(Protocol):
    """Turns a value into bytes and back; `loads(dumps(v))` must equal `v`."""

    def dumps(self, value: Any) -> bytes: ...

    def loads(self, data: bytes) -> Any: ...


class JsonCodec:
    """Compact UTF-8 JSON, with optional hooks for non-JSON types."""

    def __init__(
        self,
        *,
        default: Callable[[Any], Any] | None = None,
        object_hook: Callable[[dict[str, Any]], Any] | None = None,
    ) -> None:
        self._default = default
        self._object_hook = object_hook

    def dumps(self, value: Any) -> bytes:
        return json.dumps(value, separators=(",", ":"), default=self._default).encode()

    def loads(self, data: bytes) -> Any:
        return json.loads(data, object_hook=self._object_hook)


def encode_error(error: BaseException) -> bytes:
    """An exception as a record another process can re-raise as `RemoteFlightFailed`."""
    record = {
        "kind": type(error).__name__,
        "message": str(error)[:500],
        "retry_after": retry_after_of(error),
    }
    return json.dumps(record, separators=(",", ":")).encode()


def decode_error(data: bytes) -> RemoteFlightFailed:
    record = json.loads(data)
    return RemoteFlightFailed(
        str(record.get("kind", "Exception")),
        str(record.get("message", "")),
        record.get("retry_after"),
    )
