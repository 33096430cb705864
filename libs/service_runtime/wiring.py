"""What a service's `bootstrap()` hands to `service_runtime.serve()`.

The composition root builds adapters and the app; this record tells the generic runtime
which gRPC services to register, what to report on the admin port, which background loops
to run, how to apply a hot-reloaded config file, and what to close on shutdown.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc

from service_runtime.caller_quota import CallerQuotas


@dataclass
class Wiring:
    # Full proto service names, e.g. "argo.tracker.v1.Tracker" (health + reflection).
    service_names: Sequence[str]
    # Adds the servicers to the server.
    register: Callable[[grpc.aio.Server], None]
    # The "performance" object of GET /api/v1/health (seed-facts.md names).
    performance: Callable[[], Mapping[str, Any]]
    # Closed on shutdown, after the gRPC server has drained.
    exit_stack: contextlib.AsyncExitStack
    # Long-running loops (e.g. the engine's cycle), started after the server and
    # cancelled during shutdown.
    background: Sequence[Callable[[], Awaitable[None]]] = field(default_factory=tuple)
    # Applies the parsed YAML config file; raises ValueError to reject it (the last good
    # config stays in force).
    apply_config: Callable[[Mapping[str, Any]], None] | None = None
    # True once dependencies are connected; health stays NOT_SERVING until then.
    ready: Callable[[], Awaitable[bool]] | None = None
    # Called when shutdown begins (health already NOT_SERVING), before in-flight RPCs are
    # drained: end long-lived streams here so they do not hold the drain to its grace.
    on_shutdown: Callable[[], Awaitable[None]] | None = None
    # Per-caller request quotas, applied by the caller-auth wrapper when AUTH_MODE is on
    # (the gateway's; None: callers are not rate-limited).
    caller_quotas: CallerQuotas | None = None
