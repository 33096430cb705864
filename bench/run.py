"""`make bench` / `make bench-quick`: the seed scenario, baseline and optimized, side by side.

    .venv/bin/python -m bench.run [--quick] [--redis-url URL] [--admin-database-url URL]

Phases (real processes each; see docs/benchmarks.md for the method): baseline and
optimized with 6 symbols x 6 sources, GetQuotes throughput next to a bare grpc.aio echo
server, and optimized scale runs with 50 and 500 symbols (quick: fewer cycles, no 500).
Prints the tables, writes bench/results/bench-<time>[-quick].json (+ latest[-quick].json)
and a PNG chart; a full run also regenerates docs/benchmarks.md (+ docs/benchmarks.png).
Exit status 1 when a phase failed (its error is in the JSON); missed targets do not fail.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import json
import math
import os
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from bench import chart, databases, doc, machine
from bench.cluster import StartupError
from bench.phase import PhaseError, run_phase
from bench.scenario import BENCH_DIR, Databases, Phase, plan
from bench.tables import TextTable, all_tables

RESULTS = BENCH_DIR / "results"
DOCS = BENCH_DIR.parent / "docs"
# Machine-wide: two runs would share the Redis database index and the PostgreSQL database
# (each flushes and drops them) and the 2 cores.
LOCK_PATH = Path(tempfile.gettempdir()) / "argo-bench.lock"


@contextlib.contextmanager
def exclusive_run() -> Iterator[None]:
    """Hold the benchmark lock; raise RunInProgress naming the holder if another run has it."""
    with LOCK_PATH.open("a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            lock.seek(0)
            raise RunInProgress(lock.read().strip() or "unknown") from None
        lock.seek(0)
        lock.truncate()
        lock.write(
            f"pid {os.getpid()} ({' '.join(sys.argv)}), started {datetime.now(UTC):%H:%M:%S} UTC"
        )
        lock.flush()
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


class RunInProgress(RuntimeError):
    pass


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="the CI-sized run (< 3 min)")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/11")
    parser.add_argument("--admin-database-url", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--database-name", default="argo_bench")
    parser.add_argument(
        "--from-json", type=Path, help="render a saved result (tables, chart) without running"
    )
    parser.add_argument(
        "--write-doc",
        action="store_true",
        help="with --from-json of a full run: regenerate docs/benchmarks.md (+ .png) from it",
    )
    return parser.parse_args(argv)


async def run_all(
    phases: list[Phase], dbs: Databases, console: Console
) -> tuple[dict[str, Any], dict[str, str]]:
    results: dict[str, Any] = {}
    errors: dict[str, str] = {}
    columns = (
        TextColumn("{task.description}", style="bold"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("cycles"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as progress:
        tasks = {p.name: progress.add_task(f"{p.name}: waiting", total=p.cycles) for p in phases}
        try:
            for phase in phases:
                task = tasks[phase.name]

                def status(text: str, task: Any = task) -> None:
                    progress.update(task, description=text)

                def on_cycle(cycles: int, task: Any = task) -> None:
                    progress.update(task, completed=cycles)

                try:
                    results[phase.name] = await run_phase(
                        phase, dbs, RESULTS / "logs", status=status, on_cycle=on_cycle
                    )
                    progress.update(task, description=f"{phase.name}: done")
                except (PhaseError, StartupError, OSError) as e:
                    errors[phase.name] = str(e)
                    progress.update(task, description=f"{phase.name}: FAILED")
        finally:
            await databases.drop_database(dbs)
    return results, errors


def rich_table(table: TextTable) -> Table:
    rendered = Table(title=table.title, title_justify="left")
    for i, header in enumerate(table.headers):
        rendered.add_column(header, justify="left" if i == 0 else "right")
    for row in table.rows:
        styled = [f"[red]{c}[/red]" if c == "NOT met" else c for c in row]
        rendered.add_row(*styled)
    return rendered


def _json_safe(value: Any) -> Any:
    """NaN/inf as null/strings, so the file is strict JSON."""
    if isinstance(value, float) and not math.isfinite(value):
        return None if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def render_saved(path: Path, console: Console, write_doc: bool) -> int:
    report = json.loads(path.read_text())
    for table in all_tables(report["results"]):
        console.print(rich_table(table))
    if "baseline" in report["results"] and "optimized" in report["results"]:
        chart.draw(report["results"], path.with_suffix(".png"))
        console.print(f"chart: {path.with_suffix('.png')}")
        if write_doc:
            if report["kind"] != "full" or report["errors"]:
                console.print("[red]docs come from a full run without errors only[/red]")
                return 2
            shutil.copyfile(path.with_suffix(".png"), DOCS / "benchmarks.png")
            (DOCS / "benchmarks.md").write_text(doc.render(report, "benchmarks.png"))
            console.print("docs/benchmarks.md regenerated")
    return 0


def _interrupt(signum: int, _: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    console = Console()
    if args.from_json:
        return render_saved(args.from_json, console, args.write_doc)
    # A supervisor's SIGTERM (CI timeout, closed terminal) stops the processes like Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    signal.signal(signal.SIGHUP, _interrupt)
    try:
        with exclusive_run():
            return measure(args, console)
    except RunInProgress as e:
        console.print(f"[red]another benchmark is running[/red] ({e}); try again when it ends")
        return 2
    except KeyboardInterrupt:
        console.print("[red]interrupted[/red]: every process it started was stopped")
        return 130


def measure(args: argparse.Namespace, console: Console) -> int:
    phases = plan(args.quick)
    dbs = Databases(args.redis_url, args.admin_database_url, args.database_name)
    started, wall = datetime.now(UTC), time.monotonic()
    load_before, cpu_before = machine.load_average(), machine.cpu_reading()
    described = machine.describe()  # the code as it was when the run started
    kind = "quick" if args.quick else "full"
    console.print(f"[bold]make bench[/bold] ({kind}): {', '.join(p.name for p in phases)}")
    results, errors = asyncio.run(run_all(phases, dbs, console))
    stamp = started.strftime("%Y%m%d-%H%M%S")
    suffix = "-quick" if args.quick else ""
    json_name = f"bench-{stamp}{suffix}.json"
    report = {
        "kind": kind,
        "command": "make bench-quick" if args.quick else "make bench",
        "started": started.isoformat(timespec="seconds"),
        "duration_seconds": time.monotonic() - wall,
        "machine": described,
        "load_average": {"before": load_before, "after": machine.load_average()},
        "other_work": machine.others_cpu(
            cpu_before, machine.cpu_reading(), time.monotonic() - wall
        ),
        "phases": [
            {"name": p.name, "mode": p.mode, "symbols": len(p.symbols), "cycles": p.cycles}
            for p in phases
        ],
        "json_name": json_name,
        "databases": {"redis_url": dbs.redis_url, "database": dbs.database_name},
        "results": results,
        "errors": errors,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    text = json.dumps(_json_safe(report), indent=1)
    (RESULTS / json_name).write_text(text)
    (RESULTS / f"latest{suffix}.json").write_text(text)
    for table in all_tables(results):
        console.print(rich_table(table))
    if "baseline" in results and "optimized" in results:
        png = RESULTS / f"bench-{stamp}{suffix}.png"
        chart.draw(results, png)
        shutil.copyfile(png, RESULTS / f"latest{suffix}.png")
        console.print(f"chart: {png.relative_to(BENCH_DIR.parent)}")
        if not args.quick and not errors:
            shutil.copyfile(png, DOCS / "benchmarks.png")
            (DOCS / "benchmarks.md").write_text(doc.render(report, "benchmarks.png"))
            console.print("docs/benchmarks.md regenerated")
    console.print(f"results: bench/results/{json_name} ({report['duration_seconds']:.0f} s)")
    for name, error in errors.items():
        console.print(f"[red]{name} failed:[/red] {error[:2000]}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
