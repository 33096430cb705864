"""A grpc.aio server that wraps each method's handler once, when the method is registered,
instead of running grpc.aio server interceptors on every call.

grpc.aio awaits every interceptor's `intercept_service` on every call, each through its own
continuation coroutine, before the handler runs. The suite's interceptors used that step
to pick a wrapped handler built once per method (and auth to read the bearer token);
everything they need per call (metadata, peer, status) the servicer context offers too.
So the wrappers run at registration here, and a call goes straight to its wrapped handler.
grpcio has no registration-time hook, hence this class; decision 0023 has the measurements.

A wrapper is `(method, handler) -> handler` and returns the handler unchanged for methods it
leaves alone. Wrappers are given outermost first and applied innermost first, so an outer
one copies the (de)serializers an inner one installed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import grpc

MethodWrapper = Callable[[str, grpc.RpcMethodHandler], grpc.RpcMethodHandler]


class WrappingServer(grpc.aio.Server):  # type: ignore[misc]
    """A grpc.aio.server() whose registered handlers pass through `wrappers`."""

    def __init__(
        self,
        wrappers: Sequence[MethodWrapper],
        *,
        options: Sequence[tuple[str, Any]] | None = None,
        maximum_concurrent_rpcs: int | None = None,
    ) -> None:
        # no `handlers` (they would skip the wrappers), no `interceptors` (per call again)
        self._server = grpc.aio.server(
            options=options, maximum_concurrent_rpcs=maximum_concurrent_rpcs
        )
        self._wrappers = tuple(reversed(wrappers))  # innermost first

    def wrap(self, method: str, handler: grpc.RpcMethodHandler) -> grpc.RpcMethodHandler:
        for wrapper in self._wrappers:
            handler = wrapper(method, handler)
        return handler

    def add_generic_rpc_handlers(self, generic_rpc_handlers: Sequence[Any]) -> None:
        wrapped = tuple(_WrappedGeneric(h, self.wrap) for h in generic_rpc_handlers)
        self._server.add_generic_rpc_handlers(wrapped)

    def add_registered_method_handlers(
        self, service_name: str, method_handlers: dict[str, grpc.RpcMethodHandler]
    ) -> None:
        wrapped = {
            name: self.wrap(f"/{service_name}/{name}", handler)
            for name, handler in method_handlers.items()
        }
        self._server.add_registered_method_handlers(service_name, wrapped)

    def add_insecure_port(self, address: str) -> int:
        port: int = self._server.add_insecure_port(address)
        return port

    def add_secure_port(self, address: str, server_credentials: grpc.ServerCredentials) -> int:
        port: int = self._server.add_secure_port(address, server_credentials)
        return port

    async def start(self) -> None:
        await self._server.start()

    async def stop(self, grace: float | None) -> None:
        await self._server.stop(grace)

    async def wait_for_termination(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109
        ended: bool = await self._server.wait_for_termination(timeout)
        return ended


class _WrappedGeneric(grpc.GenericRpcHandler):  # type: ignore[misc]
    """A generic handler is asked on every call its service gets; each method's wrapped
    handler is built once (again only if the generic handler answers with a new one)."""

    def __init__(
        self,
        inner: grpc.GenericRpcHandler,
        wrap: Callable[[str, grpc.RpcMethodHandler], grpc.RpcMethodHandler],
    ) -> None:
        self._inner = inner
        self._wrap = wrap
        self._known: dict[str, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}

    def service(self, details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler | None:
        handler = self._inner.service(details)
        if handler is None:
            return None
        method: str = details.method
        known = self._known.get(method)
        if known is not None and known[0] is handler:
            return known[1]
        wrapped = self._wrap(method, handler)
        self._known[method] = (handler, wrapped)
        return wrapped
