"""One module per provider wire format; `all_providers` builds them for the server."""

from __future__ import annotations

from tools.provider_sim.providers.alpaca import Alpaca
from tools.provider_sim.providers.base import ProviderBase, SimContext
from tools.provider_sim.providers.polygon import Polygon


def all_providers(context: SimContext) -> list[ProviderBase]:
    return [Polygon(context), Alpaca(context)]
