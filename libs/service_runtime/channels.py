"""gRPC client channels to the suite's other services, traced and with sane defaults."""

from __future__ import annotations

import json

import grpc
from opentelemetry.instrumentation.grpc import aio_client_interceptors

# Transparent retries of UNAVAILABLE for idempotent reads are left to the callers'
# own policies; the channel only keeps connections alive and bounds reconnect backoff.
_CHANNEL_OPTIONS: list[tuple[str, object]] = [
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 5_000),
    ("grpc.service_config", json.dumps({"loadBalancingConfig": [{"round_robin": {}}]})),
]


def open_channel(address: str) -> grpc.aio.Channel:
    """A plaintext channel to `host:port` whose calls carry the caller's trace context."""
    if not address or ":" not in address:
        raise ValueError(f"expected host:port, got {address!r}")
    return grpc.aio.insecure_channel(
        address,
        options=_CHANNEL_OPTIONS,
        interceptors=aio_client_interceptors(),  # type: ignore[no-untyped-call]
    )
