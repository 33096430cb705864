"""One module per provider wire format; `all_providers` builds them for the server."""

from __future__ import annotations

from tools.provider_sim.providers.ai_chat import Perplexity, XAi
from tools.provider_sim.providers.ai_chat_cn import DeepSeek, Glm, Qwen
from tools.provider_sim.providers.alpaca import Alpaca
from tools.provider_sim.providers.alphavantage import AlphaVantage
from tools.provider_sim.providers.base import ProviderBase, SimContext
from tools.provider_sim.providers.polygon import Polygon
from tools.provider_sim.providers.yahoo import Yahoo

PROVIDER_CLASSES: tuple[type[ProviderBase], ...] = (
    Polygon, Alpaca, AlphaVantage, Yahoo, XAi, Perplexity, DeepSeek, Qwen, Glm,
)  # fmt: skip


def all_providers(context: SimContext) -> list[ProviderBase]:
    return [cls(context) for cls in PROVIDER_CLASSES]
