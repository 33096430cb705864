"""gRPC client channels to the suite's other services, traced and with sane defaults.

`open_channel(address, security)` is plaintext unless `security` carries TLS settings
(TLS_CA_FILE, optionally a client certificate for mTLS) and/or the caller's bearer token
(ARGO_CALLER_TOKEN), which is then sent as `authorization: Bearer <token>` on every call.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import grpc
from opentelemetry.instrumentation.grpc import aio_client_interceptors

from service_runtime.auth import load_caller_token
from service_runtime.tls import ClientTls, load_client_tls

# Transparent retries of UNAVAILABLE for idempotent reads are left to the callers'
# own policies; the channel only keeps connections alive and bounds reconnect backoff.
# Each channel owns its connections (a local subchannel pool): a channel opened to
# replace one stuck in reconnect backoff must not share that backoff through gRPC's
# process-wide subchannel pool.
_CHANNEL_OPTIONS: list[tuple[str, object]] = [
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 5_000),
    ("grpc.use_local_subchannel_pool", 1),
    ("grpc.service_config", json.dumps({"loadBalancingConfig": [{"round_robin": {}}]})),
]


@dataclass(frozen=True, repr=False)
class ChannelSecurity:
    """How outbound channels protect and identify themselves (default: plaintext, anonymous)."""

    tls: ClientTls | None = None
    token: str | None = None

    def __repr__(self) -> str:  # the token never reaches a log line or an error
        return f"ChannelSecurity(tls={self.tls!r}, token={'set' if self.token else None})"


def load_channel_security(environ: Mapping[str, str]) -> ChannelSecurity:
    """TLS_CA_FILE & co (service_runtime.tls) and ARGO_CALLER_TOKEN; ConfigError when bad."""
    return ChannelSecurity(tls=load_client_tls(environ), token=load_caller_token(environ))


def open_channel(address: str, security: ChannelSecurity | None = None) -> grpc.aio.Channel:
    """A channel to `host:port` whose calls carry the caller's trace context (and token)."""
    if not address or ":" not in address:
        raise ValueError(f"expected host:port, got {address!r}")
    security = security or ChannelSecurity()
    interceptors: list[Any] = list(aio_client_interceptors())  # type: ignore[no-untyped-call]
    if security.token:
        interceptors.append(BearerTokenInterceptor(security.token))
    if security.tls is None:
        return grpc.aio.insecure_channel(
            address, options=_CHANNEL_OPTIONS, interceptors=interceptors
        )
    return grpc.aio.secure_channel(
        address,
        security.tls.credentials(),
        options=[*_CHANNEL_OPTIONS, *security.tls.options()],
        interceptors=interceptors,
    )


class BearerTokenInterceptor(
    grpc.aio.UnaryUnaryClientInterceptor,  # type: ignore[misc]
    grpc.aio.UnaryStreamClientInterceptor,  # type: ignore[misc]
    grpc.aio.StreamUnaryClientInterceptor,  # type: ignore[misc]
    grpc.aio.StreamStreamClientInterceptor,  # type: ignore[misc]
):
    """Adds `authorization: Bearer <token>` to every call (works on plaintext channels too,
    unlike call credentials, so AUTH_MODE=token does not force TLS)."""

    def __init__(self, token: str) -> None:
        self._header = ("authorization", f"Bearer {token}")

    def _with_token(self, details: grpc.aio.ClientCallDetails) -> grpc.aio.ClientCallDetails:
        metadata = grpc.aio.Metadata(*(details.metadata or ()))
        metadata.add(*self._header)
        return grpc.aio.ClientCallDetails(
            details.method,
            details.timeout,
            metadata,
            details.credentials,
            details.wait_for_ready,
        )

    async def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._with_token(details), request)

    async def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return await continuation(self._with_token(details), request)

    async def intercept_stream_unary(self, continuation: Any, details: Any, requests: Any) -> Any:
        return await continuation(self._with_token(details), requests)

    async def intercept_stream_stream(self, continuation: Any, details: Any, requests: Any) -> Any:
        return await continuation(self._with_token(details), requests)
