"""Shared test settings: real services are required, never silently skipped."""

from __future__ import annotations

import os
import random
import socket
from pathlib import Path

import pytest

PROVIDER_FIXTURES = Path(__file__).resolve().parent / "fixtures" / "providers"
"""Recorded provider responses (vendored copy of the shared fixtures)."""

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")

START_POSTGRES = "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
START_REDIS = (
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" '
    "--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log"
)


def _reachable(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return True
    except OSError:
        return False


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """URL of the real PostgreSQL; fails (never skips) when it is not running."""
    if not _reachable("127.0.0.1", 5432):
        pytest.fail(
            f"PostgreSQL is not reachable at 127.0.0.1:5432; start it with: {START_POSTGRES}"
        )
    return POSTGRES_URL


@pytest.fixture(scope="session")
def redis_url() -> str:
    """URL of the real Redis; fails (never skips) when it is not running."""
    if not _reachable("127.0.0.1", 6379):
        pytest.fail(f"Redis is not reachable at 127.0.0.1:6379; start it with: {START_REDIS}")
    return REDIS_URL


# Ports for the test's own servers come from below Linux's ephemeral range (32768-60999):
# a port the kernel picked with bind(0) is also a candidate local port of every outgoing
# connection, so one could take it between the choice and the server's bind (a process
# that then fails to start). Ports are also never handed out twice in one run.
_PORT_RANGE = (20000, 32000)
_GIVEN_PORTS: set[int] = set()


def free_port() -> int:
    """A 127.0.0.1 TCP port nothing listens on, for a server the test starts."""
    for _ in range(500):
        port = random.randint(*_PORT_RANGE)
        if port in _GIVEN_PORTS:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        _GIVEN_PORTS.add(port)
        return port
    raise RuntimeError(f"no free port in {_PORT_RANGE}")
