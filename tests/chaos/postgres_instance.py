"""A PostgreSQL server of the test's own, on a free port, that the test may stop and start.

The shared server on 5432 is never touched: this one lives in a temporary directory owned
by the `postgres` user (initdb refuses to run as root), listens on 127.0.0.1 only, and is
stopped with `-m immediate` (a crash, as far as its clients can tell) whenever the test
wants an outage. The fixture's finalizer stops it and removes its directory.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import free_port


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        pytest.fail(f"PostgreSQL binaries not found (/usr/lib/postgresql/*/bin/{name})")
    return found[-1]


def _as_postgres(*args: str) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)


@dataclass
class PostgresInstance:
    directory: Path
    port: int

    @property
    def data(self) -> Path:
        return self.directory / "data"

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def init(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        self._run(_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")

    def start(self, within: float = 20.0) -> None:
        """Start the server and return once it accepts TCP connections."""
        options = (
            f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off"
        )
        log = str(self.directory / "server.log")
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-l", log, "-o", options, "-w", "start")
        deadline = time.monotonic() + within
        while not self.accepting():
            if time.monotonic() > deadline:
                pytest.fail(f"own PostgreSQL on {self.port} did not start: {self.log_tail()}")
            time.sleep(0.05)

    def stop(self) -> None:
        """Immediate shutdown: open connections are cut without a goodbye."""
        self._run(_bin("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def accepting(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def psql(self, sql: str) -> str:
        """Run one statement through psql (tab-separated, no headers); its output."""
        command = _as_postgres(
            _bin("psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
            "-d", "postgres", "-At", "-F", "\t", "-c", sql,
        )  # fmt: skip
        done = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
        if done.returncode:
            raise AssertionError(f"psql failed: {done.stderr}")
        return done.stdout

    def log_tail(self) -> str:
        path = self.directory / "server.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else "(no log)"

    def _run(self, *args: str) -> None:
        done = subprocess.run(
            _as_postgres(*args), capture_output=True, text=True, timeout=60, check=False
        )
        if done.returncode:
            raise AssertionError(f"{' '.join(args[:2])} failed: {done.stderr}{done.stdout}")


@pytest.fixture
def own_postgres() -> Iterator[PostgresInstance]:
    """A fresh, started PostgreSQL of this test's own; stopped and deleted afterwards."""
    directory = Path(tempfile.mkdtemp(prefix="argo-chaos-pg-"))
    instance = PostgresInstance(directory, free_port())
    try:
        instance.init()
        instance.start()
        yield instance
    finally:
        if (instance.data / "postmaster.pid").exists():
            subprocess.run(
                _as_postgres(_bin("pg_ctl"), "-D", str(instance.data), "-m", "immediate", "stop"),
                capture_output=True,
                timeout=30,
                check=False,
            )
        shutil.rmtree(directory, ignore_errors=True)
