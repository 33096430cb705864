"""TLS and mutual TLS on the shared server lifecycle and `open_channel`, configured by env."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from service_runtime.channels import load_channel_security, open_channel
from service_runtime.settings import ConfigError, load_common
from tests.security.certs import Authority, client_env, server_env
from tests.security.conftest import expect_error, say

pytestmark = [pytest.mark.security, pytest.mark.integration]


@pytest.mark.asyncio
async def test_tls_client_talks_to_tls_server_and_health_answers(serve_echo, ca) -> None:
    """Without it, a TLS-configured suite could not talk at all, or probes would fail and
    Kubernetes would restart healthy pods."""
    async with serve_echo(server_env(ca, ca.server(), mutual=False)) as server:
        reply, _ = await say(server.grpc_port, client_env(ca, None))
        assert reply == b"echo:hi"
        security = load_channel_security(client_env(ca, None))
        async with open_channel(f"127.0.0.1:{server.grpc_port}", security) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            status = await health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5)
            assert status.status == health_pb2.HealthCheckResponse.SERVING


@pytest.mark.asyncio
async def test_plaintext_client_cannot_talk_to_tls_server(serve_echo, ca) -> None:
    """Without it, TLS could be silently optional: traffic (and bearer tokens) could still
    cross the network in clear text."""
    async with serve_echo(server_env(ca, ca.server(), mutual=False)) as server:
        error = await expect_error(server.grpc_port, {})
        assert error.code() == grpc.StatusCode.UNAVAILABLE


@pytest.mark.asyncio
async def test_mutual_tls_refuses_client_without_certificate(serve_echo, ca) -> None:
    """Without it, mTLS would not keep out callers that hold no certificate of ours."""
    async with serve_echo(server_env(ca, ca.server(), mutual=True)) as server:
        error = await expect_error(server.grpc_port, client_env(ca, None))
        assert error.code() == grpc.StatusCode.UNAVAILABLE
        reply, _ = await say(server.grpc_port, client_env(ca, ca.client("signal-engine")))
        assert reply == b"echo:hi"  # the same server accepts a certificate from our CA


@pytest.mark.asyncio
async def test_mutual_tls_refuses_certificate_from_another_ca(serve_echo, ca, tmp_path) -> None:
    """Without it, anyone able to mint a certificate (any CA) could pass as a caller."""
    other = Authority(tmp_path / "other-pki", name="intruder-ca")
    intruder = other.client("signal-engine")
    async with serve_echo(server_env(ca, ca.server(), mutual=True)) as server:
        error = await expect_error(server.grpc_port, client_env(ca, intruder))
        assert error.code() == grpc.StatusCode.UNAVAILABLE


@pytest.mark.asyncio
async def test_client_refuses_server_certificate_from_another_ca(serve_echo, ca, tmp_path) -> None:
    """Without it, the engine would send signals (and its token) to an impostor server."""
    other = Authority(tmp_path / "other-pki", name="intruder-ca")
    async with serve_echo(server_env(other, other.server(), mutual=False)) as server:
        error = await expect_error(server.grpc_port, client_env(ca, None))
        assert error.code() == grpc.StatusCode.UNAVAILABLE


def _broken_files(ca: Authority, tmp_path: Path) -> dict[str, tuple[dict[str, str], str]]:
    server, stranger = ca.server(), ca.client("someone")
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    missing = str(tmp_path / "nope.pem")
    return {
        "missing cert": ({"TLS_CERT_FILE": missing, "TLS_KEY_FILE": str(server.key)},
                         "TLS_CERT_FILE"),
        "key without cert": ({"TLS_KEY_FILE": str(server.key)}, "TLS_KEY_FILE"),
        "cert without key": ({"TLS_CERT_FILE": str(server.cert)}, "TLS_KEY_FILE"),
        "mismatched key": ({"TLS_CERT_FILE": str(server.cert), "TLS_KEY_FILE": str(stranger.key)},
                           "TLS_KEY_FILE"),
        "junk client CA": ({"TLS_CERT_FILE": str(server.cert), "TLS_KEY_FILE": str(server.key),
                            "TLS_CLIENT_CA_FILE": str(junk)}, "TLS_CLIENT_CA_FILE"),
        "junk CA": ({"TLS_CA_FILE": str(junk)}, "TLS_CA_FILE"),
        "missing CA": ({"TLS_CA_FILE": missing}, "TLS_CA_FILE"),
        "client cert without key": ({"TLS_CA_FILE": str(ca.ca_file),
                                     "TLS_CLIENT_CERT_FILE": str(stranger.cert)},
                                    "TLS_CLIENT_KEY_FILE"),
        "client cert without CA": ({"TLS_CLIENT_CERT_FILE": str(stranger.cert),
                                    "TLS_CLIENT_KEY_FILE": str(stranger.key)},
                                   "TLS_CLIENT_CERT_FILE"),
        "mtls auth without client CA": ({"AUTH_MODE": "mtls"}, "AUTH_MODE"),
        "token auth without tokens": ({"AUTH_MODE": "token"}, "AUTH_TOKENS_FILE"),
    }  # fmt: skip


def test_bad_or_missing_tls_files_fail_at_start_naming_the_variable(ca, tmp_path) -> None:
    """Without it, a typo in a secret mount would start a server that silently serves
    plaintext or fails every handshake, with nothing telling the operator which file."""
    for case, (environ, variable) in _broken_files(ca, tmp_path).items():
        with pytest.raises(ConfigError) as raised:
            load_common(environ, service_name="x", default_grpc_port=0, default_admin_port=0)
        assert str(raised.value).startswith(f"{variable}:"), (case, str(raised.value))


def test_no_tls_variables_mean_plaintext() -> None:
    """Without it, existing deployments without certificates would stop starting."""
    common = load_common({}, service_name="x", default_grpc_port=0, default_admin_port=0)
    assert common.server_tls is None
    assert common.outbound is not None and common.outbound.tls is None
    assert common.auth is not None and not common.auth.enabled
