"""A local server speaking every market-data and AI provider's wire format (REST and
WebSocket) from the gateway's synthetic market, with real quotas, latency and faults.

Run it: `python -m tools.provider_sim --port 8900 [--config sim.yaml]`; start it in a test:
`async with ProviderSimulator(config, clock=clock, port=0) as sim: sim.base_url("polygon")`.
See docs/provider-simulator.md.
"""

from tools.provider_sim.app import ProviderSimulator
from tools.provider_sim.config import SimConfig

__all__ = ["ProviderSimulator", "SimConfig"]
