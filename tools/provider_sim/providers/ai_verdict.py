"""What the simulated AI analysts answer: a JSON verdict {score, confidence, rationale}.

The symbol is found in the prompt (first match wins): `symbol: AAPL` / `"symbol": "AAPL"`,
`$AAPL`, a crypto pair (`BTC-USD`, `BTC/USD`, `X:BTCUSD`), then any upper-case ticker-like
word that is not a common word. The score follows the day's move (tanh of the change in
percent / 3) plus each provider's own bias, which changes every 5 minutes of simulator time;
confidence grows with the size of the move. Same prompt, provider and 5-minute bucket give
the same answer.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from market_gateway.domain import Symbol
from tools.provider_sim.market import MarketView, mix
from tools.provider_sim.timefmt import epoch_s

_PATTERNS = (
    re.compile(r"""["']?symbol["']?\s*[:=]\s*["']?\$?([A-Za-z0-9.:/-]{1,16})"""),
    re.compile(r"\$([A-Z]{1,5}(?:\.[A-Z])?)\b"),
    re.compile(r"\b(X:[A-Z0-9]{5,14}|[A-Z0-9]{2,10}[-/](?:USDT|USDC|USD|EUR))\b"),
    re.compile(r"\b([A-Z]{1,5}(?:\.[A-Z])?)\b"),
)
_COMMON = frozenset(
    "A I AN AND OR THE TO OF IN ON FOR BY AT AS IS IT BE NO NOT ONLY ONE JSON API AI USD US "
    "BUY SELL HOLD ETF NYSE CEO EPS GDP CPI FED SEC IPO UTC EST EDT OK".split()
)


@dataclass(frozen=True, slots=True)
class Verdict:
    symbol: Symbol | None
    score: float
    confidence: float
    rationale: str

    def content(self) -> str:
        body = {"score": self.score, "confidence": self.confidence, "rationale": self.rationale}
        return json.dumps(body)


def prompt_text(messages: Any) -> str:
    """All message contents, as one text (string or OpenAI content-part lists)."""
    parts: list[str] = []
    for message in messages if isinstance(messages, list) else []:
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts += [p.get("text", "") for p in content if isinstance(p, dict)]
    return "\n".join(parts)


def find_symbol(market: MarketView, text: str) -> Symbol | None:
    for pattern in _PATTERNS:
        for match in pattern.finditer(text):
            word = match.group(1)
            if word.upper() in _COMMON:
                continue
            symbol = market.lookup(word)
            if symbol is not None:
                return symbol
    return None


async def verdict(market: MarketView, provider: str, text: str, citations: int = 0) -> Verdict:
    symbol = find_symbol(market, text)
    if symbol is None:
        return Verdict(None, 0.0, 0.1, "No instrument was named in the request.")
    tick = await market.tick(symbol)
    prev = await market.previous_day(symbol)
    reference = prev.bar.close if prev is not None else tick.price
    change = 100.0 * (tick.price / reference - 1.0) if reference else 0.0
    bucket = epoch_s(market.now()) // 300
    bias = (mix(provider, symbol, bucket, "bias") - 0.5) * 0.4
    score = max(-1.0, min(1.0, math.tanh(change / 3.0) + bias))
    confidence = 0.45 + 0.35 * abs(math.tanh(change / 2.0)) + 0.15 * mix(provider, symbol, bucket)
    mood = "bullish" if score > 0.15 else "bearish" if score < -0.15 else "neutral"
    direction = "up" if change >= 0 else "down"
    marks = "".join(f"[{i + 1}]" for i in range(citations))
    rationale = (
        f"{symbol.canonical} is {direction} {abs(change):.2f}% on the day at {tick.price:g}; "
        f"{mood} near term.{marks}"
    )
    return Verdict(symbol, round(score, 2), round(min(confidence, 0.99), 2), rationale)


def citations_for(symbol: Symbol | None) -> list[str]:
    if symbol is None:
        return []
    text = symbol.canonical
    return [
        f"https://finance.yahoo.com/quote/{text}/",
        f"https://www.nasdaq.com/market-activity/stocks/{text.lower()}",
        f"https://www.sec.gov/cgi-bin/browse-edgar?action=getcompany&company={text}",
    ]


def tokens(text: str) -> int:
    """About four characters per token, at least one."""
    return max(1, round(len(text) / 4))
