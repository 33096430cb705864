"""Test helpers: recorded fixtures by provider, and an httpx.MockTransport router."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import PROVIDER_FIXTURES


def fixture_path(provider: str, name: str) -> Path:
    return PROVIDER_FIXTURES / provider / name


def fixture_files(provider: str) -> list[str]:
    return sorted(p.name for p in (PROVIDER_FIXTURES / provider).iterdir() if p.is_file())


def load(provider: str, name: str) -> Any:
    """One recorded body; Yahoo files are whole exchanges whose body is response.bodyJson."""
    data = json.loads(fixture_path(provider, name).read_text())
    if isinstance(data, dict) and "response" in data and "request" in data:
        return data["response"]["bodyJson"]
    return data


def load_text(provider: str, name: str) -> str:
    return fixture_path(provider, name).read_text()


def load_lines(provider: str, name: str) -> list[str]:
    """The frames of a .jsonl file (one WebSocket frame or SSE payload per line)."""
    return [line for line in fixture_path(provider, name).read_text().splitlines() if line.strip()]


Responder = Callable[[httpx.Request], httpx.Response]


@dataclass
class Router:
    """Serves canned responses by path (queue per path; the last one repeats); records calls."""

    routes: dict[str, list[Responder]] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)

    def add(self, path: str, *responders: Responder) -> Router:
        self.routes.setdefault(path, []).extend(responders)
        return self

    def json(
        self, path: str, body: Any, *, status: int = 200, headers: Mapping[str, str] | None = None
    ) -> Router:
        return self.add(path, reply(body, status=status, headers=headers))

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queue = self.routes.get(request.url.path)
        if not queue:
            return httpx.Response(404, json={"error": f"no route for {request.url.path}"})
        responder = queue.pop(0) if len(queue) > 1 else queue[0]
        return responder(request)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]


def reply(body: Any, *, status: int = 200, headers: Mapping[str, str] | None = None) -> Responder:
    def respond(request: httpx.Request) -> httpx.Response:
        content = body if isinstance(body, str | bytes) else json.dumps(body)
        return httpx.Response(status, content=content, headers=dict(headers or {}))

    return respond


def failing(error: type[httpx.HTTPError]) -> Responder:
    def respond(request: httpx.Request) -> httpx.Response:
        raise error("simulated", request=request)

    return respond
