"""What each command does, over the same use cases the service runs."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path
from typing import Any

import structlog

from tracker.bootstrap import Components
from tracker.commands.diagram import write_reliability_diagram
from tracker.domain import ArchiveManifest, ArchiveRun, Calibration, StorageUnavailable

log = structlog.get_logger(__name__)


class CommandFailed(Exception):
    """The command could not do its job; the message says why."""


async def migrate(c: Components, args: argparse.Namespace) -> dict[str, Any]:
    deadline = c.clock.monotonic() + args.wait
    attempt = 0
    while True:
        attempt += 1
        try:
            await c.store.migrate()
            return {"migrated": True, "backend": c.store.backend, "attempts": attempt}
        except StorageUnavailable as e:
            if c.clock.monotonic() >= deadline:
                message = f"database unavailable after {attempt} attempt(s): {e}"
                raise CommandFailed(message) from e
            log.info("migrate_waiting_for_database", attempt=attempt, error=str(e))
            await c.clock.sleep(min(2.0, max(0.1, deadline - c.clock.monotonic())))


async def archive(c: Components, args: argparse.Namespace) -> list[dict[str, Any]]:
    if args.date:
        await c.archive.ensure_lifecycle()
        runs = [await c.archive.run(date.fromisoformat(args.date))]
    else:
        runs = await c.archive.run_due()
    return [_run_json(r) for r in runs]


async def calibrate(c: Components, args: argparse.Namespace) -> dict[str, Any]:
    fitted = await c.calibration.fit_all()
    if not fitted:
        log.warning("calibration_not_fitted", min_samples=c.calibration.settings.min_samples)
    return {
        "fitted": [_calibration_json(f) for f in fitted],
        "min_samples": c.calibration.settings.min_samples,
    }


async def reliability_diagram(c: Components, args: argparse.Namespace) -> dict[str, Any]:
    reliability = await c.calibration.reliability(args.symbol)
    out = Path(args.out)
    write_reliability_diagram(reliability, out)
    return {"written": str(out), "calibration": _calibration_json(reliability.calibration)}


async def list_archives(c: Components, args: argparse.Namespace) -> list[dict[str, Any]]:
    first = date.fromisoformat(args.start_date) if args.start_date else None
    last = date.fromisoformat(args.end_date) if args.end_date else None
    if not 1 <= args.limit <= 1000:
        raise CommandFailed("--limit must be within 1..1000")
    manifests, _ = await c.archive.list_archives(first, last, args.limit, "")
    return [_manifest_json(m) for m in manifests]


async def track_outcomes(c: Components, args: argparse.Namespace) -> dict[str, Any] | None:
    if not args.once:
        await c.outcomes.run()  # until the process is stopped
        return None
    result = await c.outcomes.track_once()
    return {"examined": result.examined, "resolved": result.resolved, "deferred": result.deferred}


def _manifest_json(m: ArchiveManifest) -> dict[str, Any]:
    return {
        "date": m.day.isoformat(),
        "rows": m.rows,
        "bytes": m.bytes,
        "sha256": m.sha256,
        "location": m.location,
        "compression": m.compression.value,
        "csv_location": m.csv_location,
        "csv_bytes": m.csv_bytes,
        "archive_time": m.archive_time.isoformat(),
        "pruned": m.pruned,
    }


def _run_json(run: ArchiveRun) -> dict[str, Any]:
    return {**_manifest_json(run.manifest), "pruned_rows": run.pruned_rows}


def _calibration_json(c: Calibration) -> dict[str, Any]:
    return {
        "symbol": c.symbol or "(global)",
        "method": c.method.value,
        "sample_size": c.sample_size,
        "held_out_size": c.held_out_size,
        "brier_before": round(c.brier_before, 6),
        "brier_after": round(c.brier_after, 6),
        "ece_before": round(c.ece_before, 6),
        "ece_after": round(c.ece_after, 6),
        "global_fallback": c.global_fallback,
        "fit_time": c.fit_time.isoformat(),
    }
