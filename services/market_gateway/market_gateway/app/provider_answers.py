"""Asking one provider for quotes, and bookkeeping of what each provider said.

A provider without a batch endpoint (Alpha Vantage, Yahoo) is asked once per symbol, each
call through its guard for its own permit; the others once for all symbols. Quotes are
validated (finite, positive, not from the future) and named by their canonical symbol.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

from market_gateway.app.outcomes import usable_quote
from market_gateway.app.routing import MarketProvider
from market_gateway.domain import BadProviderData, Quote, Symbol
from market_gateway.ports import Clock

Said = Exception | None  # what one provider said about a symbol: an error, or None (unknown)


@dataclass
class Answer:
    """One provider's answer for several symbols."""

    found: dict[str, Quote] = field(default_factory=dict)
    failed: dict[str, Exception] = field(default_factory=dict)  # incl. BadProviderData


async def ask(
    provider: MarketProvider,
    symbols: Sequence[Symbol],
    clock: Clock,
    *,
    max_wait: float | None = None,
) -> Answer:
    """One provider's answer for `symbols` (per symbol when it has no batch endpoint);
    never raises: a failed call fails every symbol it was for."""
    if provider.per_symbol and len(symbols) > 1:
        parts = await asyncio.gather(
            *(ask(provider, [s], clock, max_wait=max_wait) for s in symbols)
        )
        merged = Answer()
        for part in parts:
            merged.found.update(part.found)
            merged.failed.update(part.failed)
        return merged
    try:
        batch = await provider.guard.call(
            "get_quotes",
            lambda: provider.source.get_quotes(symbols),
            requests=provider.requests_for(symbols),
            max_wait=max_wait,
        )
    except Exception as e:
        return Answer(failed={s.canonical: e for s in symbols})
    answer = Answer()
    now = clock.now()
    rejected: dict[str, BadProviderData] = getattr(batch, "rejected", {})
    for symbol in symbols:
        quote = batch.get(symbol.canonical)
        if quote is not None:
            checked = usable_quote(quote, symbol, now)
            if isinstance(checked, Quote):
                answer.found[symbol.canonical] = checked
            else:
                answer.failed[symbol.canonical] = checked
        elif symbol.canonical in rejected:
            answer.failed[symbol.canonical] = rejected[symbol.canonical]
    return answer


def worth_asking(
    provider: MarketProvider,
    pending: list[Symbol],
    said: dict[str, list[tuple[str, Said]]],
    order: list[MarketProvider],
) -> list[Symbol]:
    """The symbols to ask `provider` for: all pending, except that the synthetic fallback
    only gets those a real provider failed on (not those every provider called unknown)."""
    if not provider.synthetic or all(p.synthetic for p in order):
        return pending
    return [
        s
        for s in pending
        if any(e is not None and not isinstance(e, BadProviderData) for _, e in said[s.canonical])
    ]


def absorb(
    name: str,
    answer: Answer,
    symbols: Sequence[Symbol],
    served: dict[str, Quote],
    said: dict[str, list[tuple[str, Said]]],
    *,
    key: str | None = None,
) -> None:
    """Record one provider's answer: quotes into `served` (keyed by symbol, or by `key`),
    errors and unknowns into `said`."""
    for symbol in symbols:
        canonical = symbol.canonical
        if canonical in answer.found:
            served[key or canonical] = answer.found[canonical]
        else:
            said[canonical].append((name, answer.failed.get(canonical)))
