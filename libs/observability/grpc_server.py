"""grpc.aio server interceptors: OpenTelemetry spans, per-RPC log context and metrics.

`aio_server_interceptor()` from opentelemetry-instrumentation-grpc creates the server span
(the sync GrpcInstrumentorServer does not see grpc.aio). The second interceptor binds
`rpc_method` and `request_id` into structlog's contextvars and counts requests by status.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
import structlog
from opentelemetry.instrumentation.grpc import aio_server_interceptor
from opentelemetry.instrumentation.grpc.filters import (
    any_of,
    health_check,
    negate,
    service_prefix,
)

from observability.metrics import GRPC_LATENCY, GRPC_REQUESTS

log = structlog.get_logger(__name__)
_SKIP_METHODS = ("/grpc.health.v1.Health/", "/grpc.reflection.")


class ContextAndMetricsInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[misc]
    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler]],
        details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler:
        handler = await continuation(details)
        method: str = details.method
        if handler is None or method.startswith(_SKIP_METHODS):
            return handler
        if handler.unary_unary is not None:
            return grpc.unary_unary_rpc_method_handler(
                self._wrap_unary(method, handler.unary_unary),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        if handler.unary_stream is not None:
            return grpc.unary_stream_rpc_method_handler(
                self._wrap_stream(method, handler.unary_stream),
                request_deserializer=handler.request_deserializer,
                response_serializer=handler.response_serializer,
            )
        return handler

    def _wrap_unary(self, method: str, behaviour: Any) -> Any:
        async def wrapper(request: Any, context: grpc.aio.ServicerContext) -> Any:
            start = time.perf_counter()
            error: BaseException | None = None
            structlog.contextvars.bind_contextvars(rpc_method=method, request_id=_request_id())
            try:
                return await behaviour(request, context)
            except BaseException as e:
                error = e
                raise
            finally:
                _record(method, context, error, start)
                structlog.contextvars.unbind_contextvars("rpc_method", "request_id")

        return wrapper

    def _wrap_stream(self, method: str, behaviour: Any) -> Any:
        async def wrapper(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
            start = time.perf_counter()
            error: BaseException | None = None
            structlog.contextvars.bind_contextvars(rpc_method=method, request_id=_request_id())
            try:
                async for item in behaviour(request, context):
                    yield item
            except BaseException as e:
                error = e
                raise
            finally:
                _record(method, context, error, start)
                structlog.contextvars.unbind_contextvars("rpc_method", "request_id")

        return wrapper


def _request_id() -> str:
    return uuid.uuid4().hex[:16]


def _record(
    method: str, context: grpc.aio.ServicerContext, error: BaseException | None, start: float
) -> None:
    code = _status_name(context, error)
    GRPC_REQUESTS.labels(method=method, code=code).inc()
    GRPC_LATENCY.labels(method=method).observe(time.perf_counter() - start)
    if code not in ("OK", "CANCELLED", "INVALID_ARGUMENT", "NOT_FOUND", "UNIMPLEMENTED"):
        log.warning("grpc_request_failed", code=code, error=repr(error) if error else None)


def _status_name(context: grpc.aio.ServicerContext, error: BaseException | None) -> str:
    if isinstance(error, asyncio.CancelledError):
        return "CANCELLED"
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return str(code.name)
    if isinstance(code, int):
        for status in grpc.StatusCode:
            if status.value[0] == code:
                return str(status.name)
    return "OK" if error is None else "UNKNOWN"


def server_interceptors() -> list[grpc.aio.ServerInterceptor]:
    """Interceptors for grpc.aio.server(): tracing first, then log context and metrics.

    Health and reflection are not traced: they are probe noise, and the OTel aio
    interceptor mishandles Health/Watch, which streams with context.write().
    """
    untraced = any_of(health_check(), service_prefix("grpc.reflection"))
    tracing = aio_server_interceptor(filter_=negate(untraced))  # type: ignore[no-untyped-call]
    return [tracing, ContextAndMetricsInterceptor()]
