"""Throwaway PKI for the security tests: a CA, server and client certificates as PEM files.

Generated with the `cryptography` package (installed in .venv via moto); EC P-256 keys keep
generation fast. Nothing here is ever reused outside one test's tmp_path.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

SERVER_NAME = "argo.test"  # what clients expect (TLS_SERVER_NAME); the cert also has localhost


@dataclass(frozen=True)
class Issued:
    cert: Path
    key: Path


@dataclass
class Authority:
    """A CA that writes its own certificate and the certificates it issues under `directory`."""

    directory: Path
    name: str = "argo-test-ca"

    def __post_init__(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self._key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, self.name)])
        now = datetime.now(UTC)
        self._cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self._key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_cert_sign=True,
                    crl_sign=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),  # fmt: skip
                critical=True,
            )
            .sign(self._key, hashes.SHA256())
        )
        self.ca_file = self.directory / f"{self.name}.crt"
        self.ca_file.write_bytes(self._cert.public_bytes(serialization.Encoding.PEM))

    def server(self, name: str = "server") -> Issued:
        """A server certificate for SERVER_NAME, localhost and 127.0.0.1."""
        sans: list[x509.GeneralName] = [
            x509.DNSName(SERVER_NAME),
            x509.DNSName("localhost"),
            x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
        ]
        return self._issue(name, sans, ExtendedKeyUsageOID.SERVER_AUTH)

    def client(self, caller: str) -> Issued:
        """A client certificate whose subject CN (and SAN) is the caller id."""
        return self._issue(caller, [x509.DNSName(caller)], ExtendedKeyUsageOID.CLIENT_AUTH)

    def _issue(
        self, name: str, sans: list[x509.GeneralName], usage: x509.ObjectIdentifier
    ) -> Issued:
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
            .issuer_name(self._cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .sign(self._key, hashes.SHA256())
        )
        issued = Issued(cert=self.directory / f"{name}.crt", key=self.directory / f"{name}.key")
        issued.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        issued.key.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return issued


def server_env(ca: Authority, server: Issued, *, mutual: bool) -> dict[str, str]:
    env = {"TLS_CERT_FILE": str(server.cert), "TLS_KEY_FILE": str(server.key)}
    if mutual:
        env["TLS_CLIENT_CA_FILE"] = str(ca.ca_file)
    return env


def client_env(ca: Authority, client: Issued | None) -> dict[str, str]:
    env = {"TLS_CA_FILE": str(ca.ca_file), "TLS_SERVER_NAME": SERVER_NAME}
    if client is not None:
        env |= {"TLS_CLIENT_CERT_FILE": str(client.cert), "TLS_CLIENT_KEY_FILE": str(client.key)}
    return env
