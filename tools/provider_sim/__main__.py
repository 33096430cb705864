"""`python -m tools.provider_sim --port 8900 [--config sim.yaml] [--env-file sim.env]`

Serves every provider until SIGINT/SIGTERM. The clock honours ARGO_CLOCK_START and the
synthetic market SYNTHETIC_SEED / SYNTHETIC_ANCHOR_DATE, exactly as the gateway reads them,
so both quote the same prices. Prints the variables that point the gateway here (and writes
them to --env-file as KEY=VALUE lines when asked).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from service_runtime.clock import SystemClock, parse_clock_start
from tools.provider_sim.app import ProviderSimulator
from tools.provider_sim.config import SimConfig


def env_layer(environ: Mapping[str, str]) -> dict[str, Any]:
    """Market defaults from the variables the gateway reads, so both agree on prices."""
    market: dict[str, Any] = {}
    if environ.get("SYNTHETIC_SEED"):
        market["seed"] = int(environ["SYNTHETIC_SEED"])
    if environ.get("SYNTHETIC_ANCHOR_DATE"):
        market["anchor_date"] = environ["SYNTHETIC_ANCHOR_DATE"]
    elif environ.get("ARGO_CLOCK_START"):
        market["anchor_date"] = parse_clock_start(environ["ARGO_CLOCK_START"]).date().isoformat()
    return {"market": market} if market else {}


def load(path: str | None, environ: Mapping[str, str]) -> SimConfig:
    raw: Any = {}
    if path:
        raw = yaml.safe_load(Path(path).read_text()) or {}
        if not isinstance(raw, dict):
            raise ValueError(f"{path}: the top level must be a mapping")
    return SimConfig.parse(raw, env_layer=env_layer(environ))


def write_env_file(path: Path, lines: list[str]) -> None:
    """Write KEY=VALUE lines so that the file, once it exists, is complete: a reader that
    waits for it to appear (bench/cluster.py) must never read it half written."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text("\n".join(lines) + "\n")
    partial.replace(path)  # atomic on POSIX: the old name or the whole new file


async def serve(args: argparse.Namespace) -> None:
    config = load(args.config, os.environ)
    if args.host:
        config = config.patched({"listen": {"host": args.host}})
    start = os.environ.get("ARGO_CLOCK_START")
    clock = SystemClock(parse_clock_start(start) if start else None)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with ProviderSimulator(config, clock=clock, port=args.port) as sim:
        env = sim.env()
        lines = [f"{key}={value}" for key, value in env.items()]
        if args.env_file:  # before printing, so whoever reads the output finds the file
            await asyncio.to_thread(write_env_file, Path(args.env_file), lines)
        print(
            f"provider simulator on {sim.admin_url.removesuffix('/_sim')} (admin: {sim.admin_url})"
        )
        print("\n".join(lines), flush=True)
        await stop.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.provider_sim", description=__doc__)
    parser.add_argument("--port", type=int, default=None, help="shared port (default 8900)")
    parser.add_argument("--host", default=None, help="listen address (default 127.0.0.1)")
    parser.add_argument("--config", default=None, help="YAML file (docs/provider-simulator.md)")
    parser.add_argument("--env-file", default=None, help="write the gateway variables here")
    args = parser.parse_args(argv)
    try:
        asyncio.run(serve(args))
    except (ValueError, OSError) as e:  # a bad config, or a port already taken
        print(f"provider simulator: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
