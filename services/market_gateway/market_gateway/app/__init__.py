"""The gateway's use cases (imports domain and ports, plus libs/resilience policies).

`MarketGatewayApp` (gateway.py) is what the servicer calls; the parts are described in
their modules: routing (provider orders and guards), quote_fetch, quotes, stream_follow,
quote_streams, bars, sentiment, ttl_policy, agreement, cost_ledger, deadline.
"""

from market_gateway.app.gateway import MarketGatewayApp
from market_gateway.app.requests import DEFAULT_BARS, MAX_BARS, MAX_SYMBOLS

__all__ = ["DEFAULT_BARS", "MAX_BARS", "MAX_SYMBOLS", "MarketGatewayApp"]
