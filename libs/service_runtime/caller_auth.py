"""The handler wrapper that authenticates callers, authorises methods and applies
per-caller quotas (installed by `Lifecycle` only when AUTH_MODE is not off; wrapped around
each method once, at registration: service_runtime.wrapping_server).

Order of checks on every call except grpc.health.v1.Health:
1. who is calling: bearer token (AUTH_MODE=token) or verified client certificate
   (AUTH_MODE=mtls); none or unknown -> UNAUTHENTICATED
2. may that caller call this method (AUTH_ALLOW) -> else PERMISSION_DENIED
3. is the caller within its quota (when the service has `CallerQuotas`) -> else
   RESOURCE_EXHAUSTED with `grpc-retry-pushback-ms` trailing metadata
Messages never echo the credential. The caller id is bound into the log context (`caller`)
and set on the server span (`enduser.id`).
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any

import grpc
import structlog
from opentelemetry import trace

from service_runtime.auth import UNAUTHENTICATED_PREFIXES, AuthSettings
from service_runtime.caller_quota import CallerQuotas

log = structlog.get_logger(__name__)
PUSHBACK_KEY = "grpc-retry-pushback-ms"
_BEARER = "bearer "


class CallerAuth:
    """`(method, handler) -> handler`: the handler behind the checks above."""

    def __init__(self, settings: AuthSettings, quotas: CallerQuotas | None = None) -> None:
        self._settings = settings
        self._quotas = quotas

    def __call__(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        if method.startswith(UNAUTHENTICATED_PREFIXES):
            return handler
        admit = self._admission(method)
        kwargs = {
            "request_deserializer": handler.request_deserializer,
            "response_serializer": handler.response_serializer,
        }
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(_unary(admit, handler.unary_unary), **kwargs)
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                _streaming(admit, handler.unary_stream), **kwargs
            )
        if handler.stream_unary is not None:
            return grpc.stream_unary_rpc_method_handler(
                _unary(admit, handler.stream_unary), **kwargs
            )
        return grpc.stream_stream_rpc_method_handler(
            _streaming(admit, handler.stream_stream), **kwargs
        )

    def _admission(self, method: str) -> Callable[[grpc.aio.ServicerContext], Awaitable[str]]:
        async def admit(context: grpc.aio.ServicerContext) -> str:
            caller = self._caller(context)
            if caller is None:
                what = "bearer token" if self._settings.mode == "token" else "client certificate"
                await context.abort(grpc.StatusCode.UNAUTHENTICATED, f"missing or invalid {what}")
                raise AssertionError("abort returned")  # pragma: no cover
            if not self._settings.allows(caller, method):
                await context.abort(
                    grpc.StatusCode.PERMISSION_DENIED, f"caller {caller!r} may not call {method}"
                )
            if self._quotas is not None:
                wait = await self._quotas.retry_after(caller)
                if wait is not None:
                    millis = max(1, math.ceil(wait * 1000))
                    log.info("caller_quota_exceeded", caller=caller, retry_after_ms=millis)
                    await context.abort(
                        grpc.StatusCode.RESOURCE_EXHAUSTED,
                        f"caller {caller!r} is over its request quota; retry in {millis} ms",
                        trailing_metadata=((PUSHBACK_KEY, str(millis)),),
                    )
            trace.get_current_span().set_attribute("enduser.id", caller)
            return caller

        return admit

    def _caller(self, context: grpc.aio.ServicerContext) -> str | None:
        if self._settings.mode == "token":
            token = _bearer(context.invocation_metadata() or ())
            return self._settings.caller_for_token(token) if token else None
        return certificate_identity(context.auth_context())


def certificate_identity(auth_context: dict[str, Sequence[bytes]]) -> str | None:
    """The verified peer certificate's subject CN, else its first SAN (None: no cert)."""
    for key in ("x509_common_name", "x509_subject_alternative_name"):
        values = auth_context.get(key) or ()
        for value in values:
            text = value.decode("utf-8", errors="replace").strip()
            if text:
                return text
    return None


def _bearer(metadata: Sequence[tuple[str, Any]]) -> str | None:
    for key, value in metadata:
        if key == "authorization" and isinstance(value, str):
            if value[: len(_BEARER)].lower() == _BEARER:
                return value[len(_BEARER) :].strip() or None
    return None


def _unary(admit: Callable[[grpc.aio.ServicerContext], Awaitable[str]], behaviour: Any) -> Any:
    async def wrapper(request: Any, context: grpc.aio.ServicerContext) -> Any:
        caller = await admit(context)
        with structlog.contextvars.bound_contextvars(caller=caller):
            return await behaviour(request, context)

    return wrapper


def _streaming(admit: Callable[[grpc.aio.ServicerContext], Awaitable[str]], behaviour: Any) -> Any:
    async def wrapper(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        caller = await admit(context)
        with structlog.contextvars.bound_contextvars(caller=caller):
            async for item in behaviour(request, context):
                yield item

    return wrapper
