"""In-process servers run by the real `Lifecycle`, configured through environment variables."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import replace
from pathlib import Path

import grpc
import pytest
import pytest_asyncio

from service_runtime.caller_quota import CallerQuotas
from service_runtime.channels import load_channel_security, open_channel
from service_runtime.server import Lifecycle
from service_runtime.settings import load_common
from service_runtime.wiring import Wiring
from tests.security.certs import Authority

ECHO = "test.Echo"


def _register(server: grpc.aio.Server) -> None:
    async def say(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        return b"echo:" + request

    async def wipe(request: bytes, context: grpc.aio.ServicerContext) -> bytes:
        return b"wiped"

    handler = grpc.method_handlers_generic_handler(
        ECHO,
        {
            "Say": grpc.unary_unary_rpc_method_handler(say),
            "Wipe": grpc.unary_unary_rpc_method_handler(wipe),
        },
    )
    server.add_generic_rpc_handlers((handler,))


ServerFactory = Callable[..., contextlib.AbstractAsyncContextManager[Lifecycle]]


@pytest_asyncio.fixture
async def serve_echo() -> AsyncIterator[ServerFactory]:
    """`async with serve_echo(env, quotas=None) as lifecycle:` a server of test.Echo."""
    running: list[Lifecycle] = []

    @contextlib.asynccontextmanager
    async def start(
        environ: Mapping[str, str], quotas: CallerQuotas | None = None
    ) -> AsyncIterator[Lifecycle]:
        common = replace(
            load_common(environ, service_name="echo", default_grpc_port=0, default_admin_port=0),
            bind_host="127.0.0.1",
            shutdown_grace_seconds=0.5,
        )
        wiring = Wiring(
            service_names=[ECHO],
            register=_register,
            performance=dict,
            exit_stack=contextlib.AsyncExitStack(),
            caller_quotas=quotas,
        )
        lifecycle = Lifecycle(common, wiring)
        await lifecycle.start()
        running.append(lifecycle)
        try:
            yield lifecycle
        finally:
            running.remove(lifecycle)
            await lifecycle.stop()

    yield start
    for lifecycle in running:
        await lifecycle.stop()


@pytest.fixture
def ca(tmp_path: Path) -> Authority:
    return Authority(tmp_path / "pki")


async def say(
    port: int, client_env: Mapping[str, str], payload: bytes = b"hi", method: str = "Say"
) -> tuple[bytes, grpc.aio.Call]:
    """Call test.Echo/<method> through `open_channel` configured from `client_env`."""
    channel = open_channel(f"localhost:{port}", load_channel_security(client_env))
    async with channel:
        call = channel.unary_unary(f"/{ECHO}/{method}")(payload, timeout=5)
        reply = await call
        return reply, call


async def expect_error(
    port: int, client_env: Mapping[str, str], method: str = "Say"
) -> grpc.aio.AioRpcError:
    try:
        await say(port, client_env, method=method)
    except grpc.aio.AioRpcError as e:
        return e
    raise AssertionError(f"/{ECHO}/{method} succeeded but should have failed")
