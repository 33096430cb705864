"""Process entry point of the market-gateway: `python -m market_gateway.main`."""

from __future__ import annotations

from market_gateway.bootstrap import bootstrap
from market_gateway.config import load_settings
from service_runtime.main import run_service


def run() -> None:
    run_service(load_settings, bootstrap)


if __name__ == "__main__":
    run()
