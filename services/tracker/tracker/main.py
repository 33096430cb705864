"""Process entry point of the tracker: `python -m tracker.main`."""

from __future__ import annotations

from service_runtime.main import run_service
from tracker.bootstrap import bootstrap
from tracker.config import load_settings


def run() -> None:
    run_service(load_settings, bootstrap)


if __name__ == "__main__":
    run()
