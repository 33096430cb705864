"""`python -m tools.provider_sim` serves, prints the gateway variables, honours
ARGO_CLOCK_START and stops cleanly on SIGTERM; in-process warming reports through health."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from market_gateway.adapters.calendar import NyseCalendar
from tests.unit.provider_sim.conftest import new_client, running
from tools.provider_sim.__main__ import write_env_file

VARIABLE = re.compile(r"^[A-Z][A-Z_]+=")


@pytest.mark.asyncio
async def test_command_line_server_prints_its_variables_and_stops_on_sigterm(
    tmp_path: Path,
) -> None:
    env_file, config = tmp_path / "sim.env", tmp_path / "sim.yaml"
    config.write_text("market: {warm_days: 0}\ndefaults: {latency: {median_ms: 0}}\n")
    env = {**os.environ, "ARGO_CLOCK_START": "2026-11-17T10:30:00-05:00", "SYNTHETIC_SEED": "42"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tools.provider_sim", "--port", "0", "--env-file", str(env_file),
        "--config", str(config),
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    assert process.stdout is not None
    try:
        lines: list[str] = []
        while not any(line.startswith("GLM_API_KEY=") for line in lines):
            line = await asyncio.wait_for(process.stdout.readline(), timeout=20)
            assert line, "the simulator exited early: " + "".join(lines)
            lines.append(line.decode())
        pairs = [line.strip().split("=", 1) for line in lines if VARIABLE.match(line)]
        variables = dict(pairs)
        assert env_file.read_text().splitlines() == [f"{k}={v}" for k, v in variables.items()]
        async with new_client() as client:
            trade = await client.get(
                variables["POLYGON_BASE_URL"] + "/v2/last/trade/AAPL",
                params={"apiKey": variables["POLYGON_API_KEY"]},
            )
        assert trade.status_code == 200
        assert trade.json()["results"]["p"] == pytest.approx(229.57, abs=0.05)  # 10:30 New York
    finally:
        process.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(process.wait(), timeout=10) == 0


def test_the_env_file_appears_complete_or_not_at_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Lost if it failed: a reader that polls for the file (the benchmark does) could read
    it between its creation and its write and start a gateway with no provider at all,
    which then benchmarks the synthetic market instead of the scenario."""
    path = tmp_path / "sim.env"
    lines = [f"VAR_{i}=value-{i}" for i in range(50)]
    seen_at_rename: list[list[str]] = []
    replace = Path.replace

    def renaming(self: Path, target: Any) -> Path:
        assert Path(target) == path and not path.exists()  # nothing there before it
        seen_at_rename.append(self.read_text().splitlines())  # what is about to appear
        return replace(self, target)

    monkeypatch.setattr(Path, "replace", renaming)
    write_env_file(path, lines)
    assert seen_at_rename == [lines]  # the name appeared by a rename of the whole file
    assert path.read_text().splitlines() == lines
    assert [p.name for p in tmp_path.iterdir()] == ["sim.env"]  # no partial file left


@pytest.mark.asyncio
async def test_warming_computes_the_universe_history_then_says_so(calendar: NyseCalendar) -> None:
    config = {"market": {"warm_days": 5, "universe": ["AAPL", "BTC-USD"]}}
    async with running(calendar, config) as sim, new_client() as client:
        await sim.wait_warm()
        health = (await client.get(sim.admin_url + "/health")).json()
    assert health == {"status": "ok", "warm": True}
