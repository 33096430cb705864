"""The current RPC's log context: its method and a request id, in one ContextVar.

Every log line written while a call is served carries `rpc_method` and `request_id`
(`add_rpc_context`, a structlog processor). structlog's own bind_contextvars and
unbind_contextvars keep one ContextVar per key and, for two keys, cost about as much as the
rest of the call's log and metric bookkeeping together; GetQuotes' warm-path profile showed
them. One ContextVar holding both, set on entry and reset on exit, costs a fraction of that,
and the request id is formatted only when a line is actually written.
"""

from __future__ import annotations

import random
from collections.abc import MutableMapping
from contextvars import ContextVar, Token
from typing import Any

_CURRENT: ContextVar[tuple[str, int] | None] = ContextVar("argo_rpc_context", default=None)
RpcToken = Token[tuple[str, int] | None]


def enter(method: str) -> RpcToken:
    """Make `method`, with a new random 64-bit request id, the current call's context."""
    return _CURRENT.set((method, random.getrandbits(64)))


def leave(token: RpcToken) -> None:
    """Back to the context before `enter`. A streaming handler's generator may be closed in
    another context (the loop's cleanup), where the token is foreign: the call is over
    there too, so it just ends it."""
    try:
        _CURRENT.reset(token)
    except ValueError:
        _CURRENT.set(None)


def current() -> dict[str, str]:
    """`rpc_method` and `request_id` (16 hex digits) of the call being served, or nothing."""
    found = _CURRENT.get()
    if found is None:
        return {}
    method, request_id = found
    return {"rpc_method": method, "request_id": f"{request_id:016x}"}


def add_rpc_context(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: the call's context, under what the line itself says."""
    for key, value in current().items():
        event.setdefault(key, value)
    return event
