"""The chat-completions request this adapter sends, and one provider's configuration.

One fixed prompt asks for a JSON verdict; every OpenAI-compatible provider takes the same
body at `<base URL>/chat/completions` with `Authorization: Bearer <key>`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from market_gateway.domain import AssetClass, Symbol

CHAT_PATH = "/chat/completions"

SYSTEM_PROMPT = (
    "You are a markets analyst. Judge the near-term sentiment for the asset the user names. "
    "Reply with only a JSON object and nothing else: "
    '{"score": <number from -1 (very bearish) to 1 (very bullish)>, '
    '"confidence": <number from 0 (a guess) to 1 (certain)>, '
    '"rationale": "<one line, at most 200 characters>"}'
)


@dataclass(frozen=True, slots=True)
class ChatProviderConfig:
    """One AI provider: where, which model, and its price per 1 000 tokens (USD), used
    when the answer does not report its own cost."""

    name: str
    base_url: str
    model: str
    api_key: str = field(repr=False)
    input_price_per_1k: float = 0.0
    output_price_per_1k: float = 0.0
    max_tokens: int = 400
    temperature: float = 0.2


def user_prompt(symbol: Symbol, today: date) -> str:
    kind = "crypto pair" if symbol.asset_class is AssetClass.CRYPTO else "US stock"
    return (
        f"Asset: {symbol.canonical} ({kind}). Date: {today.isoformat()}. Horizon: next trading day."
    )


def chat_request(config: ChatProviderConfig, symbol: Symbol, today: date) -> dict[str, Any]:
    return {
        "model": config.model,
        "messages": [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": user_prompt(symbol, today)},
        ],
        "temperature": config.temperature,
        "max_tokens": config.max_tokens,
        "stream": False,
    }
