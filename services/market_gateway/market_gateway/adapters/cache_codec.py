"""How cached values travel through Redis (the cache's L2): compact, tagged JSON.

Quotes, bar series and AI verdicts become JSON objects with a "t" tag ("quote", "bars",
"sentiment"); times are epoch milliseconds. `loads(dumps(v)) == v` for every cached value;
a payload this codec cannot read raises ValueError (the cache treats it as a miss).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from market_gateway.domain import (
    Bar,
    CachedBars,
    CacheStatus,
    Quote,
    Sentiment,
    Timeframe,
    TokenUsage,
)


def _ms(instant: datetime) -> int:
    return round(instant.timestamp() * 1000)


def _time(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _bar(bar: Bar) -> list[Any]:
    return [_ms(bar.start_time), bar.open, bar.high, bar.low, bar.close, bar.volume, bar.vwap,
            bar.trade_count]  # fmt: skip


class CacheCodec:
    def dumps(self, value: Any) -> bytes:
        return json.dumps(self._encode(value), separators=(",", ":")).encode()

    def loads(self, data: bytes) -> Any:
        try:
            return self._decode(json.loads(data))
        except (KeyError, TypeError, IndexError, AttributeError) as e:
            raise ValueError(f"not a cached value ({type(e).__name__})") from None

    @staticmethod
    def _encode(value: Any) -> dict[str, Any]:
        if isinstance(value, Quote):
            return {
                "t": "quote",
                "s": value.symbol,
                "p": [value.price, value.bid, value.ask, value.volume],
                "at": _ms(value.time),
                "by": value.provider,
                "cs": value.cache_status.value,
            }
        if isinstance(value, CachedBars):
            return {
                "t": "bars",
                "s": value.symbol,
                "tf": value.timeframe.value,
                "by": value.provider,
                "n": value.depth,
                "at": _ms(value.checked_at),
                "b": [_bar(b) for b in value.bars],
            }
        if isinstance(value, Sentiment):
            usage = value.usage
            return {
                "t": "sentiment",
                "s": value.symbol,
                "v": [value.score, value.confidence, value.cost_usd],
                "r": value.rationale,
                "by": value.provider,
                "m": value.model,
                "at": _ms(value.time),
                "c": list(value.citations),
                "u": [
                    usage.prompt_tokens,
                    usage.completion_tokens,
                    usage.reasoning_tokens,
                    usage.cached_prompt_tokens,
                ],  # fmt: skip
            }
        raise TypeError(f"cannot cache a {type(value).__name__}")

    @staticmethod
    def _decode(raw: dict[str, Any]) -> Quote | CachedBars | Sentiment:
        kind = raw.get("t")
        if kind == "quote":
            price, bid, ask, volume = raw["p"]
            return Quote(
                raw["s"], price, bid, ask, volume, _time(raw["at"]), raw["by"],
                cache_status=CacheStatus(raw["cs"]),
            )  # fmt: skip
        if kind == "bars":
            bars = tuple(
                Bar(_time(b[0]), b[1], b[2], b[3], b[4], b[5], b[6], int(b[7])) for b in raw["b"]
            )
            timeframe = Timeframe(raw["tf"])
            return CachedBars(raw["s"], timeframe, raw["by"], raw["n"], bars, _time(raw["at"]))
        if kind == "sentiment":
            score, confidence, cost = raw["v"]
            prompt, completion, reasoning, cached = raw["u"]
            return Sentiment(
                symbol=raw["s"],
                score=score,
                confidence=confidence,
                rationale=raw["r"],
                provider=raw["by"],
                model=raw["m"],
                time=_time(raw["at"]),
                citations=tuple(raw["c"]),
                usage=TokenUsage(prompt, completion, reasoning, cached),
                cost_usd=cost,
            )
        raise ValueError(f"unknown cached value kind {kind!r}")
