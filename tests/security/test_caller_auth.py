"""Caller authentication (bearer token, mTLS identity), the method allow-list and per-caller
quotas, through the real server lifecycle and `open_channel`."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from resilience.quota import Quota, Window
from service_runtime.auth import token_hash
from service_runtime.caller_auth import PUSHBACK_KEY
from service_runtime.caller_quota import CallerQuotas
from service_runtime.clock import FakeClock
from tests.security.certs import Authority, client_env, server_env
from tests.security.conftest import ECHO, expect_error, say

pytestmark = [pytest.mark.security, pytest.mark.integration]

ENGINE_TOKEN = "engine-" + secrets.token_urlsafe(24)
OPS_TOKEN = "ops-" + secrets.token_urlsafe(24)


def _token_env(tmp_path: Path, allow: str | None = None) -> dict[str, str]:
    tokens = tmp_path / "tokens"
    # the engine's token stored as a hash, the operator's in plain text: both forms work
    tokens.write_text(
        f"# caller  token\nsignal-engine sha256:{token_hash(ENGINE_TOKEN)}\nops {OPS_TOKEN}\n"
    )
    env = {"AUTH_MODE": "token", "AUTH_TOKENS_FILE": str(tokens)}
    if allow is not None:
        env["AUTH_ALLOW"] = allow
    return env


@pytest.mark.asyncio
async def test_missing_or_wrong_token_is_unauthenticated_but_health_stays_open(
    serve_echo, tmp_path
) -> None:
    """Without it, anyone reaching the port could call the API with auth 'on', or kubelet
    probes (which carry no credentials) would fail and restart every pod."""
    async with serve_echo(_token_env(tmp_path)) as server:
        port = server.grpc_port
        missing = await expect_error(port, {})
        wrong = await expect_error(port, {"ARGO_CALLER_TOKEN": "x" + ENGINE_TOKEN})
        assert missing.code() == wrong.code() == grpc.StatusCode.UNAUTHENTICATED
        assert ENGINE_TOKEN not in (wrong.details() or "")
        reply, _ = await say(port, {"ARGO_CALLER_TOKEN": ENGINE_TOKEN})
        assert reply == b"echo:hi"
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            health = health_pb2_grpc.HealthStub(channel)
            status = await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
            assert status.status == health_pb2.HealthCheckResponse.SERVING


@pytest.mark.asyncio
async def test_reflection_needs_an_authenticated_caller(serve_echo, tmp_path) -> None:
    """Without it, anonymous callers could enumerate the API (decision 0016 keeps reflection
    behind authentication, while grpcurl with a token still works)."""
    async with serve_echo(_token_env(tmp_path)) as server:
        request = reflection_pb2.ServerReflectionRequest(list_services="")
        async with grpc.aio.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
            stub = reflection_pb2_grpc.ServerReflectionStub(channel)
            with pytest.raises(grpc.aio.AioRpcError) as raised:
                async for _ in stub.ServerReflectionInfo(iter([request]), timeout=5):
                    pass
            assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
            names: list[str] = []
            metadata = (("authorization", f"Bearer {OPS_TOKEN}"),)
            replies = stub.ServerReflectionInfo(iter([request]), timeout=5, metadata=metadata)
            async for reply in replies:
                names = [s.name for s in reply.list_services_response.service]
            assert ECHO in names


@pytest.mark.asyncio
async def test_valid_token_for_a_forbidden_method_is_permission_denied(
    serve_echo, tmp_path
) -> None:
    """Without it, any authenticated caller (e.g. a read-only engine credential) could call
    every method, including destructive ones meant for operators."""
    allow = f"signal-engine={ECHO}/Say; ops=*"
    async with serve_echo(_token_env(tmp_path, allow)) as server:
        engine = {"ARGO_CALLER_TOKEN": ENGINE_TOKEN}
        assert (await say(server.grpc_port, engine))[0] == b"echo:hi"
        denied = await expect_error(server.grpc_port, engine, method="Wipe")
        assert denied.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "signal-engine" in (denied.details() or "")
        ops = {"ARGO_CALLER_TOKEN": OPS_TOKEN}
        assert (await say(server.grpc_port, ops, method="Wipe"))[0] == b"wiped"


@pytest.mark.asyncio
async def test_mtls_identity_is_the_certificate_subject(serve_echo, ca: Authority) -> None:
    """Without it, with AUTH_MODE=mtls every certificate of the CA would be allowed every
    method: the allow-list would not bind to the verified certificate's name."""
    environ = {
        **server_env(ca, ca.server(), mutual=True),
        "AUTH_MODE": "mtls",
        "AUTH_ALLOW": f"signal-engine={ECHO}/*",
    }
    async with serve_echo(environ) as server:
        engine = client_env(ca, ca.client("signal-engine"))
        assert (await say(server.grpc_port, engine, method="Wipe"))[0] == b"wiped"
        other = client_env(ca, ca.client("reporting"))
        denied = await expect_error(server.grpc_port, other)
        assert denied.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "reporting" in (denied.details() or "")


@pytest.mark.asyncio
async def test_per_caller_quota_limits_one_caller_and_not_another(serve_echo, tmp_path) -> None:
    """Without it, one runaway caller could use up the gateway (and its paid provider
    quotas) for every other team, and clients would get no pushback telling them when
    to retry."""
    clock = FakeClock(datetime(2025, 1, 6, 15, 0, tzinfo=UTC))  # frozen: no refill
    default, engine_quota = Quota.of(Window.rate(1, burst=5)), Quota.of(Window.rate(1, burst=2))
    quotas = CallerQuotas({"default": default, "signal-engine": engine_quota}, clock=clock)
    async with serve_echo(_token_env(tmp_path), quotas=quotas) as server:
        engine = {"ARGO_CALLER_TOKEN": ENGINE_TOKEN}
        for _ in range(2):
            await say(server.grpc_port, engine)
        refused = await expect_error(server.grpc_port, engine)
        assert refused.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        trailers = dict(refused.trailing_metadata() or ())
        assert 900 <= int(trailers[PUSHBACK_KEY]) <= 1000  # 1 permit/s: about a second
        ops = {"ARGO_CALLER_TOKEN": OPS_TOKEN}  # the default quota, its own bucket
        for _ in range(5):
            assert (await say(server.grpc_port, ops))[0] == b"echo:hi"
        assert (await expect_error(server.grpc_port, ops)).code() == (
            grpc.StatusCode.RESOURCE_EXHAUSTED
        )
        clock.advance(1.0)
        assert (await say(server.grpc_port, engine))[0] == b"echo:hi"  # refilled
        quotas.set_quotas({"signal-engine": Quota.of(Window.rate(100, burst=100))})
        clock.advance(2.0)  # the bucket keeps its history across a reload; let it drain
        for _ in range(10):  # the old quota (burst 2) would refuse the third
            await say(server.grpc_port, engine)
