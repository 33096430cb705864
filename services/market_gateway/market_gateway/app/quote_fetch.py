"""Quotes from providers: failover in order, hedging, fan-out with agreement.

`fetch(symbols)` gives each symbol its quote or the error that explains why none came:
- single source (default): the first provider in the quote order is asked; with hedging the
  next one is started after an adaptive delay (p90 of recent winning latencies) or at once
  when the first fails, and the first good answer wins. Symbols a provider does not know,
  or whose data it got wrong, and every symbol of a failed call go on to the next provider.
  The synthetic market (the last fallback) only gets symbols some real provider failed on —
  never symbols every provider called unknown.
- sampled agreement: at most once per `agreement.sample_interval_seconds` the call also
  goes to `agreement.providers` (spare quota only) and the answers are compared.
- every source (`single_source` off, the seeds' behaviour): every provider is asked, in
  parallel with hedging on, one after another with it off.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from market_gateway.app.agreement import AgreementTracker
from market_gateway.app.outcomes import Outcome, failure_of, usable_quote
from market_gateway.app.routing import MarketProvider, Router
from market_gateway.domain import (
    BadProviderData,
    HedgingSettings,
    ProviderUnavailable,
    Quote,
    Symbol,
    Tunables,
)
from market_gateway.ports import Clock
from resilience.hedging import AdaptiveDelay, Hedge

Said = Exception | None  # what one provider said about a symbol: an error, or None (unknown)


@dataclass
class Answer:
    """One provider's answer for several symbols."""

    found: dict[str, Quote] = field(default_factory=dict)
    failed: dict[str, Exception] = field(default_factory=dict)  # incl. BadProviderData


class _AttemptFailed(Exception):
    """A hedged attempt got no quote at all (its answer is kept for the error report)."""


class QuoteFetcher:
    def __init__(
        self,
        router: Router,
        agreement: AgreementTracker,
        clock: Clock,
        tunables: Callable[[], Tunables],
    ) -> None:
        self._router = router
        self._agreement = agreement
        self._clock = clock
        self._tunables = tunables
        self._hedging: HedgingSettings | None = None
        self._hedge = self._new_hedge(tunables().hedging)

    def apply(self, tunables: Tunables) -> None:
        if tunables.hedging != self._hedging:
            self._hedge = self._new_hedge(tunables.hedging)

    async def fetch(self, symbols: Sequence[Symbol]) -> dict[str, Outcome]:
        switches = self._tunables().optimizations
        order = self._router.quotes()
        if not order:
            down = ProviderUnavailable("no market-data provider is enabled")
            return {s.canonical: down for s in symbols}
        if not switches.single_source:
            return await self._everyone(order, symbols, parallel=switches.hedging)
        if switches.agreement and len(self._sampled(order)) > 1 and self._agreement.sample_due():
            return await self._everyone(order, symbols, parallel=True, sample=True)
        return await self._in_order(order, symbols, hedge=switches.hedging)

    async def _in_order(
        self,
        order: list[MarketProvider],
        symbols: Sequence[Symbol],
        *,
        hedge: bool,
        said: dict[str, list[tuple[str, Said]]] | None = None,
    ) -> dict[str, Outcome]:
        """`said` carries what earlier providers said, when this continues a fan-out."""
        said = said if said is not None else {s.canonical: [] for s in symbols}
        served: dict[str, Quote] = {}
        pending = list(symbols)
        index = 0
        while pending and index < len(order):
            asked = _worth_asking(order[index], pending, said, order)
            if not asked:
                index += 1
                continue
            group = self._hedge_group(order, index) if hedge else [order[index]]
            answers, index = await self._ask_group(group, asked, index)
            for name, answer in answers:
                _absorb(name, answer, asked, served, said)
            pending = [s for s in pending if s.canonical not in served]
        return {
            s.canonical: served.get(s.canonical) or failure_of(s, said[s.canonical])
            for s in symbols
        }

    async def _everyone(
        self,
        order: list[MarketProvider],
        symbols: Sequence[Symbol],
        *,
        parallel: bool,
        sample: bool = False,
    ) -> dict[str, Outcome]:
        asked = self._sampled(order) if sample else [p for p in order if not p.synthetic]
        asked = asked or order  # offline: the synthetic market is the only provider
        if parallel:
            spare = [None if i == 0 or not sample else 0.0 for i in range(len(asked))]
            answers = list(
                await asyncio.gather(
                    *(self._ask(p, symbols, max_wait=w) for p, w in zip(asked, spare, strict=True))
                )
            )
        else:
            answers = [await self._ask(p, symbols) for p in asked]
        said: dict[str, list[tuple[str, Said]]] = {s.canonical: [] for s in symbols}
        results: dict[str, Outcome] = {}
        switches = self._tunables().optimizations
        names = [p.name for p in order]
        for symbol in symbols:
            quotes: dict[str, Quote] = {}
            for provider, answer in zip(asked, answers, strict=True):
                _absorb(provider.name, answer, [symbol], quotes, said, key=provider.name)
            if not quotes:
                continue
            found = self._agreement.judge(symbol.canonical, quotes) if switches.agreement else None
            results[symbol.canonical] = self._agreement.choose(names, quotes, found)
        rest = [s for s in symbols if s.canonical not in results]
        remaining = [p for p in order if p not in asked]
        if rest and remaining:  # failover for what the fan-out did not serve
            later = await self._in_order(remaining, rest, hedge=False, said=said)
            results.update(later)
        for symbol in rest:
            results.setdefault(symbol.canonical, failure_of(symbol, said[symbol.canonical]))
        return results

    async def _ask_group(
        self, group: list[MarketProvider], symbols: list[Symbol], index: int
    ) -> tuple[list[tuple[str, Answer]], int]:
        """Ask one provider, or hedge across a group; returns the answers and the index of
        the provider to ask next for what is still missing."""
        if len(group) == 1:
            return [(group[0].name, await self._ask(group[0], symbols))], index + 1
        failures: list[tuple[str, Answer]] = []

        def attempt(provider: MarketProvider) -> Callable[[], Awaitable[tuple[str, Answer]]]:
            async def run() -> tuple[str, Answer]:
                answer = await self._ask(provider, symbols)
                if answer.failed and not answer.found:
                    failures.append((provider.name, answer))
                    raise _AttemptFailed(provider.name)
                return provider.name, answer

            return run

        try:
            name, answer = await self._hedge.execute([attempt(p) for p in group])
        except _AttemptFailed:
            return failures, index + len(group)
        position = [p.name for p in group].index(name)
        return [*failures, (name, answer)], index + position + 1

    async def _ask(
        self, provider: MarketProvider, symbols: Sequence[Symbol], *, max_wait: float | None = None
    ) -> Answer:
        if provider.per_symbol and len(symbols) > 1:
            parts = await asyncio.gather(
                *(self._ask(provider, [s], max_wait=max_wait) for s in symbols)
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
        now = self._clock.now()
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

    def _hedge_group(self, order: list[MarketProvider], index: int) -> list[MarketProvider]:
        size = 1 + self._tunables().hedging.max_hedged_attempts
        group = [order[index]]
        for provider in order[index + 1 : index + size]:
            if provider.synthetic or order[index].synthetic:
                break  # never race real prices against the synthetic fallback
            group.append(provider)
        return group

    def _sampled(self, order: list[MarketProvider]) -> list[MarketProvider]:
        """The primary plus the agreement providers, in order."""
        names = set(self._tunables().agreement.providers)
        real = [p for p in order if not p.synthetic]
        return [p for i, p in enumerate(real) if i == 0 or p.name in names]

    def _new_hedge(self, settings: HedgingSettings) -> Hedge:
        self._hedging = settings
        delay = AdaptiveDelay(
            percentile=settings.percentile,
            floor=settings.min_delay_seconds,
            ceiling=max(settings.max_delay_seconds, settings.min_delay_seconds),
            initial=settings.initial_delay_seconds,
        )
        return Hedge(
            "quotes",
            delay=delay,
            max_hedged_attempts=settings.max_hedged_attempts,
            clock=self._clock,
        )


def _worth_asking(
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


def _absorb(
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
