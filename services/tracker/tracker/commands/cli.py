"""Argument parsing, the shared set-up of every command, and exit codes."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import date
from typing import Any

import structlog
from prometheus_client import REGISTRY, push_to_gateway

from observability.logging import configure_logging
from observability.redaction import Redactor, secrets_from_environ
from service_runtime.reloader import read_config_file
from service_runtime.settings import ConfigError
from tracker.bootstrap import Components, build_components
from tracker.commands import actions
from tracker.config import Settings, load_settings, parse_tunables
from tracker.domain import DomainError, InvalidArgument

log = structlog.get_logger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
Action = Callable[[Components, argparse.Namespace], Awaitable[Any]]


def _day(value: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YYYY-MM-DD, got {value!r}") from None


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="python -m tracker.commands", description="Tracker operations."
    )
    commands = root.add_subparsers(dest="command", required=True)
    migrate = commands.add_parser("migrate", help="apply schema migrations")
    migrate.add_argument(
        "--wait", type=float, default=0.0, metavar="SECONDS",
        help="keep retrying an unreachable database this long (default: fail at once)",
    )  # fmt: skip
    archive = commands.add_parser("archive", help="archive a UTC day and prune past retention")
    archive.add_argument(
        "--date", type=_day, help="YYYY-MM-DD (default: yesterday, plus days past retention)"
    )
    commands.add_parser("calibrate", help="refit confidence calibration now")
    diagram = commands.add_parser("reliability-diagram", help="write a reliability PNG")
    diagram.add_argument("--out", required=True, help="PNG file to write")
    diagram.add_argument("--symbol", default="", help="symbol (default: all symbols)")
    listing = commands.add_parser("list-archives", help="print archive manifests")
    listing.add_argument("--start-date", type=_day)
    listing.add_argument("--end-date", type=_day)
    listing.add_argument("--limit", type=int, default=100)
    track = commands.add_parser("track-outcomes", help="run outcome tracking")
    track.add_argument("--once", action="store_true", help="one pass, then exit")
    return root


ACTIONS: dict[str, Action] = {
    "migrate": actions.migrate,
    "archive": actions.archive,
    "calibrate": actions.calibrate,
    "reliability-diagram": actions.reliability_diagram,
    "list-archives": actions.list_archives,
    "track-outcomes": actions.track_outcomes,
}


def main(argv: Sequence[str], environ: Mapping[str, str] | None = None) -> int:
    """Run one command; the process exit status."""
    args = parser().parse_args(argv)  # exits 2 with usage on bad arguments
    environ = dict(os.environ if environ is None else environ)
    try:
        settings = load_settings(environ)
    except ConfigError as e:
        print(f"configuration error: {e}", file=sys.stderr)
        return EXIT_USAGE
    common = settings.common
    configure_logging(
        service=f"tracker-{args.command}",
        level=common.log_level,
        fmt=common.log_format,
        redactor=Redactor(secrets_from_environ(environ)),
    )
    status = asyncio.run(_run(ACTIONS[args.command], args, settings))
    _push_metrics(environ, args.command)
    return status


async def _run(action: Action, args: argparse.Namespace, settings: Settings) -> int:
    try:
        components = await build_components(settings)
    except ConfigError as e:
        print(f"configuration error: {e}", file=sys.stderr)
        return EXIT_USAGE
    if settings.common.config_path:  # the service's tunables file, read once
        try:
            raw, _ = read_config_file(settings.common.config_path)
            components.apply(parse_tunables(raw))
        except (OSError, ValueError) as e:
            await components.exit_stack.aclose()
            print(f"configuration error: ARGO_CONFIG: {e}", file=sys.stderr)
            return EXIT_USAGE
    try:
        result = await action(components, args)
    except InvalidArgument as e:
        print(f"{args.command}: {e}", file=sys.stderr)
        return EXIT_USAGE
    except (DomainError, actions.CommandFailed) as e:
        print(f"{args.command} failed: {e}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        await components.exit_stack.aclose()
    if result is not None:
        print(json.dumps(result, indent=2, sort_keys=True, default=str))
    return EXIT_OK


def _push_metrics(environ: Mapping[str, str], command: str) -> None:
    url = environ.get("PROMETHEUS_PUSHGATEWAY_URL", "").strip()
    if not url:
        return
    try:
        push_to_gateway(url, job=f"tracker-{command}", registry=REGISTRY, timeout=5)
    except OSError as e:  # metrics are best effort; the exit status tells the truth
        log.warning("metrics_push_failed", error=str(e))
