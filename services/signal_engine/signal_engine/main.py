"""Process entry point of the signal-engine: `python -m signal_engine.main`."""

from __future__ import annotations

from service_runtime.main import run_service
from signal_engine.bootstrap import bootstrap
from signal_engine.config import load_settings


def run() -> None:
    run_service(load_settings, bootstrap)


if __name__ == "__main__":
    run()
