"""The three services as real processes with mutual TLS and bearer tokens on every hop."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
import pytest_asyncio

from argo.signals.v1 import signals_pb2, signals_pb2_grpc
from argo.tracker.v1 import tracker_pb2, tracker_pb2_grpc
from service_runtime.auth import token_hash
from service_runtime.channels import ChannelSecurity
from service_runtime.tls import load_client_tls
from tests.e2e.suite import Suite
from tests.security.certs import Authority, client_env, server_env

pytestmark = [pytest.mark.security, pytest.mark.e2e]
_SYMBOLS = ["AAPL", "BTC-USD"]
INTERNAL_TOKEN = "internal-" + secrets.token_urlsafe(24)
TESTER_TOKEN = "tester-" + secrets.token_urlsafe(24)


def secure_env(ca: Authority, workdir: Path) -> dict[str, str]:
    """Server mTLS + token auth for every service; the engine and tracker call out with the
    'argo-internal' certificate and token, which may call only the gateway and tracker."""
    tokens = workdir / "tokens"
    tokens.write_text(
        f"argo-internal sha256:{token_hash(INTERNAL_TOKEN)}\n"
        f"tester sha256:{token_hash(TESTER_TOKEN)}\n"
    )
    allow = "argo-internal=argo.marketdata.v1.MarketGateway/*,argo.tracker.v1.Tracker/*;tester=*"
    return {
        **server_env(ca, ca.server(), mutual=True),
        **client_env(ca, ca.client("argo-internal")),
        "AUTH_MODE": "token",
        "AUTH_TOKENS_FILE": str(tokens),
        "AUTH_ALLOW": allow,
        "ARGO_CALLER_TOKEN": INTERNAL_TOKEN,
    }


def client_security(ca: Authority, token: str | None = TESTER_TOKEN) -> ChannelSecurity:
    return ChannelSecurity(tls=load_client_tls(client_env(ca, ca.client("tester"))), token=token)


@pytest_asyncio.fixture
async def secure_suite(tmp_path: Path) -> AsyncIterator[tuple[Suite, Authority]]:
    ca = Authority(tmp_path / "pki")
    suite = Suite(
        tmp_path,
        extra_env={
            **secure_env(ca, tmp_path),
            "SYMBOLS": ",".join(_SYMBOLS),
            "ARGO_CLOCK_START": "2026-11-17T10:30:00-05:00",
        },
        channel_security=client_security(ca),
    )
    suite.start()
    try:
        async with asyncio.timeout(60):
            await suite.wait_serving()
        yield suite, ca
    finally:
        codes = await asyncio.to_thread(suite.stop)
    assert codes == {"signal-engine": 0, "tracker": 0, "market-gateway": 0}, codes


@pytest.mark.asyncio
async def test_signals_flow_end_to_end_over_mutual_tls_with_tokens(secure_suite) -> None:
    """Without it, turning TLS and caller auth on could break the suite itself (the engine
    unable to reach the gateway or tracker), or leave a hop open to anonymous callers."""
    suite, ca = secure_suite
    async with suite.channel("signal-engine") as channel:
        engine = signals_pb2_grpc.SignalEngineStub(channel)
        reply = await engine.GenerateSignals(
            signals_pb2.GenerateSignalsRequest(symbols=_SYMBOLS, force=True), timeout=20
        )
    assert {s.symbol for s in reply.signals} == set(_SYMBOLS)
    async with suite.channel("tracker") as channel:
        tracker = tracker_pb2_grpc.TrackerStub(channel)
        stored = await tracker.QuerySignals(
            tracker_pb2.QuerySignalsRequest(filter=tracker_pb2.SignalFilter(symbols=_SYMBOLS)),
            timeout=5,
        )
    assert {t.signal.signal_id for t in stored.signals} >= {s.signal_id for s in reply.signals}

    request = signals_pb2.GenerateSignalsRequest(symbols=_SYMBOLS)
    engine_addr = suite.services["signal-engine"].address
    async with grpc.aio.insecure_channel(engine_addr) as plain:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await signals_pb2_grpc.SignalEngineStub(plain).GetLatestSignals(request, timeout=5)
        assert raised.value.code() == grpc.StatusCode.UNAVAILABLE  # no TLS, no talk
    suite.channel_security = client_security(ca, token=None)
    async with suite.channel("signal-engine") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await signals_pb2_grpc.SignalEngineStub(channel).GetLatestSignals(request, timeout=5)
        assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED  # cert, no token
    suite.channel_security = client_security(ca, token=INTERNAL_TOKEN)
    async with suite.channel("signal-engine") as channel:
        with pytest.raises(grpc.aio.AioRpcError) as raised:
            await signals_pb2_grpc.SignalEngineStub(channel).GetLatestSignals(request, timeout=5)
        assert raised.value.code() == grpc.StatusCode.PERMISSION_DENIED  # not on its list
    for service in suite.services.values():
        text = service.log_text()
        assert INTERNAL_TOKEN not in text and TESTER_TOKEN not in text, service.name
