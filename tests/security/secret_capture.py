"""What the secret scan captures and how it looks for secrets in it.

- `SpanCapture`: an OTLP/gRPC trace receiver that keeps every export request whole (resource
  attributes, span and event attributes, status messages, links) as protobuf text.
- `SimProcess` / `RedisProcess`: the provider simulator and a password-protected Redis as
  processes of their own.
- `leak_forms` / `find_leaks`: a secret as it could appear (verbatim, URL-encoded, base64),
  and every place a captured text holds one, or an unmasked `Bearer` credential.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import httpx
import yaml
from google.protobuf import text_format
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from tests.conftest import free_port

REPO = Path(__file__).resolve().parents[2]
# `Bearer ` followed by anything but the redactor's mask (`***`).
_BEARER = re.compile(r"bearer\s+(?!\*\*\*)[A-Za-z0-9._~+/=-]{6,}", re.I)


@dataclass(frozen=True)
class CapturedSpan:
    service: str
    name: str
    attributes: dict[str, Any]


class SpanCapture(trace_service_pb2_grpc.TraceServiceServicer):  # type: ignore[misc]
    def __init__(self) -> None:
        self.texts: list[str] = []  # one protobuf text dump per export request
        self.spans: list[CapturedSpan] = []
        self._server: grpc.aio.Server | None = None

    async def Export(  # noqa: N802 - gRPC method name
        self,
        request: trace_service_pb2.ExportTraceServiceRequest,
        context: grpc.aio.ServicerContext,
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        self.texts.append(text_format.MessageToString(request, as_utf8=True))
        for resource_spans in request.resource_spans:
            resource = {a.key: _value(a.value) for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    attributes = {a.key: _value(a.value) for a in span.attributes}
                    service = str(resource.get("service.name", ""))
                    self.spans.append(CapturedSpan(service, span.name, attributes))
        return trace_service_pb2.ExportTraceServiceResponse()

    async def start(self) -> int:
        self._server = grpc.aio.server()
        trace_service_pb2_grpc.add_TraceServiceServicer_to_server(self, self._server)
        port = self._server.add_insecure_port("127.0.0.1:0")
        await self._server.start()
        return port

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop(0)


def _value(value: Any) -> Any:
    kind = value.WhichOneof("value")
    return getattr(value, kind) if kind else None


@dataclass
class SimProcess:
    """`python -m tools.provider_sim` on free ports with the given config."""

    process: subprocess.Popen[bytes]
    admin_url: str = ""
    env: dict[str, str] = field(default_factory=dict)

    @classmethod
    def start(
        cls, workdir: Path, config: Mapping[str, Any], environ: Mapping[str, str]
    ) -> SimProcess:
        config_path, env_path, log_path = (workdir / n for n in ("sim.yaml", "sim.env", "sim.log"))
        config_path.write_text(yaml.safe_dump(dict(config)))
        argv = [sys.executable, "-m", "tools.provider_sim", "--port", "0"]
        argv += ["--config", str(config_path), "--env-file", str(env_path)]
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                argv, env={**os.environ, **environ}, stdout=log_file, stderr=subprocess.STDOUT,
                cwd=REPO,
            )  # fmt: skip
        sim = cls(process)
        deadline = time.monotonic() + 30
        while not sim.admin_url:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"simulator did not start: {log_path.read_text()[-2000:]}")
            for line in log_path.read_text(errors="replace").splitlines():
                if "(admin: " in line:
                    sim.admin_url = line.split("(admin: ", 1)[1].rstrip(")").strip()
            time.sleep(0.05)
        sim.env = dict(line.split("=", 1) for line in env_path.read_text().splitlines() if line)
        while not httpx.get(f"{sim.admin_url}/health", timeout=5).json()["warm"]:
            if time.monotonic() > deadline:
                raise RuntimeError("simulator market history did not warm in time")
            time.sleep(0.1)
        return sim

    def counters(self) -> dict[str, Any]:
        reply = httpx.get(f"{self.admin_url}/counters", timeout=5)
        reply.raise_for_status()
        found: dict[str, Any] = reply.json()
        return found

    def stop(self) -> None:
        stop_process(self.process)


@dataclass
class RedisProcess:
    """A throwaway redis-server on a free port that requires `password`."""

    process: subprocess.Popen[bytes]
    port: int
    password: str

    @classmethod
    def start(cls, workdir: Path, password: str) -> RedisProcess:
        port = free_port()
        argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", ""]
        argv += ["--appendonly", "no", "--dir", str(workdir), "--requirepass", password]
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            probe = subprocess.run(
                ["redis-cli", "-p", str(port), "--no-auth-warning", "-a", password, "ping"],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            if probe.stdout.strip() == "PONG":
                return cls(process, port, password)
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start on {port}: {probe.stderr}")
            time.sleep(0.05)

    def dbsize(self) -> int:
        argv = ["redis-cli", "-p", str(self.port), "--no-auth-warning", "-a", self.password]
        reply = subprocess.run([*argv, "dbsize"], capture_output=True, text=True, check=True)
        return int(reply.stdout.strip())

    def stop(self) -> None:
        stop_process(self.process)


def stop_process(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def leak_forms(secret: str) -> set[str]:
    """The secret verbatim, URL-encoded, and base64 (standard, URL-safe, unpadded)."""
    raw = secret.encode()
    forms = {secret, urllib.parse.quote(secret, safe=""), urllib.parse.quote_plus(secret)}
    for encoded in (base64.b64encode(raw), base64.urlsafe_b64encode(raw)):
        forms |= {encoded.decode(), encoded.decode().rstrip("=")}
    return forms


def find_leaks(secrets: Mapping[str, str], texts: Mapping[str, str]) -> list[str]:
    """`where: what` for every secret form or unmasked Bearer credential found in `texts`."""
    found: list[str] = []
    patterns = {name: leak_forms(value) for name, value in secrets.items()}
    for where, text in texts.items():
        lowered = text.lower()
        for name, forms in patterns.items():
            if any(form.lower() in lowered for form in forms):
                found.append(f"{where}: {name}")
        found += [f"{where}: {m.group(0)[:20]}..." for m in _BEARER.finditer(text)]
    return found


def joined(lines: Iterable[str]) -> str:
    return "\n".join(lines)
