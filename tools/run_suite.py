"""`make run`: start the three services with embedded defaults and show live signals.

Each service runs as its own process (its own session, so Ctrl-C reaches this supervisor
only); on Ctrl-C or SIGTERM the supervisor stops them in dependency order (engine, tracker,
gateway) with SIGTERM so each drains in-flight calls, and escalates to SIGKILL only after
the grace period. Service logs go to var/logs/<service>.log.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tools.live_view import LiveView, ServiceDied

_SERVICES = (
    ("market-gateway", "market_gateway.main"),
    ("tracker", "tracker.main"),
    ("signal-engine", "signal_engine.main"),
)
_STOP_ORDER = ("signal-engine", "tracker", "market-gateway")
_GRACE_SECONDS = 15.0


def session_clock_start(now: datetime) -> str | None:
    """A start instant inside an NYSE session when the market is closed now, else None."""
    import exchange_calendars as xcals
    import pandas as pd

    calendar = xcals.get_calendar("XNYS", start=(now - timedelta(days=10)).date().isoformat())
    stamp = pd.Timestamp(now).floor("min")
    if calendar.is_open_on_minute(stamp):
        return None
    next_open = calendar.next_open(stamp).to_pydatetime()
    start: datetime = next_open + timedelta(minutes=30)
    return start.astimezone(UTC).isoformat()


def _start(env: dict[str, str], logs: Path) -> dict[str, subprocess.Popen[bytes]]:
    processes: dict[str, subprocess.Popen[bytes]] = {}
    for name, module in _SERVICES:
        with (logs / f"{name}.log").open("ab") as log_file:  # the child keeps its own fd
            processes[name] = subprocess.Popen(
                [sys.executable, "-m", module],
                env={**env, "OTEL_SERVICE_NAME": name},
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
    return processes


def _stop(processes: dict[str, subprocess.Popen[bytes]]) -> None:
    for name in _STOP_ORDER:
        process = processes[name]
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        print(f"{name} stopped (exit code {process.returncode})")


def _interrupt(signum: int, _: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main() -> int:
    # A closed terminal (SIGHUP) or a supervisor's SIGTERM stops the suite like Ctrl-C does.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    root = Path.cwd()
    logs = root / "var" / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("LOG_FORMAT", "json")
    if "ARGO_CLOCK_START" not in env:
        start = session_clock_start(datetime.now(UTC))
        if start is not None:
            env["ARGO_CLOCK_START"] = start
            print(f"NYSE is closed now; simulating a session from {start} (set ARGO_CLOCK_START)")
    processes = _start(env, logs)
    view = LiveView(
        engine_addr=f"127.0.0.1:{env.get('ENGINE_GRPC_PORT', '50052')}",
        gateway_admin=f"http://127.0.0.1:{env.get('GATEWAY_ADMIN_PORT', '9101')}",
        processes=processes,
    )
    print(f"starting market-gateway, tracker and signal-engine; logs in {logs}; Ctrl-C stops")
    failed = False
    try:
        asyncio.run(view.run())
    except KeyboardInterrupt:
        pass
    except ServiceDied as e:
        print(f"\n{e}")
        failed = True
    finally:
        print("\nstopping services...")
        _stop(processes)
    clean = all(p.returncode in (0, -signal.SIGTERM) for p in processes.values())
    return 0 if clean and not failed else 1


if __name__ == "__main__":
    raise SystemExit(main())
