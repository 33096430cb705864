"""TLS and mutual TLS for the gRPC server and the channels to the other services.

Server (all three services), on when TLS_CERT_FILE is set:
  TLS_CERT_FILE        PEM certificate chain the server presents
  TLS_KEY_FILE         its PEM private key (required with TLS_CERT_FILE)
  TLS_CLIENT_CA_FILE   PEM CA bundle; when set, clients MUST present a certificate signed by
                       it (mutual TLS); unset: any client may connect over TLS
Outbound channels (engine -> gateway/tracker, tracker -> gateway), on when TLS_CA_FILE is set:
  TLS_CA_FILE          PEM CA bundle that verifies the servers called
  TLS_CLIENT_CERT_FILE / TLS_CLIENT_KEY_FILE   the certificate this service presents to an
                       mTLS server (both or neither; may be the same files as TLS_CERT_FILE)
  TLS_SERVER_NAME      expected server name when it differs from the address's host
                       (tests, or addresses by IP)
With none of them set everything stays plaintext. Files are read and checked once at start
(stdlib `ssl` parses them): a missing, unreadable or malformed file, or a key that does not
match its certificate, is a ConfigError naming the variable. Rotation needs a restart.
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from dataclasses import dataclass

import grpc

from service_runtime.settings import ConfigError, env_str

_CERT_MARK = b"-----BEGIN CERTIFICATE-----"


@dataclass(frozen=True, repr=False)
class ServerTls:
    """PEM bytes of the server's certificate chain and key, and the client CA (mTLS)."""

    cert_chain: bytes
    private_key: bytes
    client_ca: bytes | None = None

    @property
    def mutual(self) -> bool:
        return self.client_ca is not None

    def credentials(self) -> grpc.ServerCredentials:
        return grpc.ssl_server_credentials(
            [(self.private_key, self.cert_chain)],
            root_certificates=self.client_ca,
            require_client_auth=self.client_ca is not None,
        )

    def __repr__(self) -> str:  # never print key material
        return f"ServerTls(mutual={self.mutual})"


@dataclass(frozen=True, repr=False)
class ClientTls:
    """PEM bytes of the CA that verifies servers, and this client's certificate (mTLS)."""

    root_ca: bytes
    cert_chain: bytes | None = None
    private_key: bytes | None = None
    server_name: str | None = None

    def credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(
            root_certificates=self.root_ca,
            private_key=self.private_key,
            certificate_chain=self.cert_chain,
        )

    def options(self) -> list[tuple[str, object]]:
        if not self.server_name:
            return []
        return [("grpc.ssl_target_name_override", self.server_name)]

    def __repr__(self) -> str:
        mutual = self.cert_chain is not None
        return f"ClientTls(mutual={mutual}, server_name={self.server_name!r})"


def load_server_tls(environ: Mapping[str, str]) -> ServerTls | None:
    """The server's TLS settings, or None (plaintext) when TLS_CERT_FILE is unset."""
    cert_path = env_str(environ, "TLS_CERT_FILE")
    key_path = env_str(environ, "TLS_KEY_FILE")
    ca_path = env_str(environ, "TLS_CLIENT_CA_FILE")
    if not cert_path:
        for name, value in (("TLS_KEY_FILE", key_path), ("TLS_CLIENT_CA_FILE", ca_path)):
            if value:
                raise ConfigError(f"{name}: set without TLS_CERT_FILE")
        return None
    if not key_path:
        raise ConfigError("TLS_KEY_FILE: required when TLS_CERT_FILE is set")
    cert, key = _key_pair("TLS_CERT_FILE", cert_path, "TLS_KEY_FILE", key_path)
    client_ca = _ca_bundle("TLS_CLIENT_CA_FILE", ca_path) if ca_path else None
    return ServerTls(cert_chain=cert, private_key=key, client_ca=client_ca)


def load_client_tls(environ: Mapping[str, str]) -> ClientTls | None:
    """Outbound channels' TLS settings, or None (plaintext) when TLS_CA_FILE is unset."""
    ca_path = env_str(environ, "TLS_CA_FILE")
    cert_path = env_str(environ, "TLS_CLIENT_CERT_FILE")
    key_path = env_str(environ, "TLS_CLIENT_KEY_FILE")
    server_name = env_str(environ, "TLS_SERVER_NAME") or None
    if not ca_path:
        for name, value in (
            ("TLS_CLIENT_CERT_FILE", cert_path),
            ("TLS_CLIENT_KEY_FILE", key_path),
            ("TLS_SERVER_NAME", server_name),
        ):
            if value:
                raise ConfigError(f"{name}: set without TLS_CA_FILE")
        return None
    if bool(cert_path) != bool(key_path):
        missing = "TLS_CLIENT_KEY_FILE" if cert_path else "TLS_CLIENT_CERT_FILE"
        raise ConfigError(f"{missing}: TLS_CLIENT_CERT_FILE and TLS_CLIENT_KEY_FILE go together")
    root = _ca_bundle("TLS_CA_FILE", ca_path)
    if not cert_path:
        return ClientTls(root_ca=root, server_name=server_name)
    cert, key = _key_pair("TLS_CLIENT_CERT_FILE", cert_path, "TLS_CLIENT_KEY_FILE", key_path)
    return ClientTls(root_ca=root, cert_chain=cert, private_key=key, server_name=server_name)


def _read(name: str, path: str) -> bytes:
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise ConfigError(f"{name}: cannot read {path!r} ({e.strerror or e})") from None
    if not data.strip():
        raise ConfigError(f"{name}: {path!r} is empty")
    return data


def _key_pair(cert_name: str, cert_path: str, key_name: str, key_path: str) -> tuple[bytes, bytes]:
    cert, key = _read(cert_name, cert_path), _read(key_name, key_path)
    if _CERT_MARK not in cert:
        raise ConfigError(f"{cert_name}: {cert_path!r} holds no PEM certificate")
    if b"PRIVATE KEY-----" not in key:
        raise ConfigError(f"{key_name}: {key_path!r} holds no PEM private key")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert_path, key_path)
    except ssl.SSLError as e:
        reason = e.reason or str(e)
        raise ConfigError(
            f"{key_name}: {key_path!r} does not match the certificate in {cert_name} or is "
            f"not a usable key ({reason})"
        ) from None
    return cert, key


def _ca_bundle(name: str, path: str) -> bytes:
    data = _read(name, path)
    if _CERT_MARK not in data:
        raise ConfigError(f"{name}: {path!r} holds no PEM certificate")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        context.load_verify_locations(cadata=data.decode("ascii", errors="replace"))
    except (ssl.SSLError, ValueError) as e:
        raise ConfigError(f"{name}: {path!r} is not a valid PEM CA bundle ({e})") from None
    return data
