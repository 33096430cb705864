"""Quotes from providers: failover in order, hedging, fan-out with agreement.

`fetch(symbols)` gives each symbol its quote or the error that explains why none came:
- single source (default): the first provider in the quote order is asked; with hedging the
  next one is started after an adaptive delay (p90 of recent winning latencies) or at once
  when the first fails, and the first good answer wins. Symbols a provider does not know,
  or whose data it got wrong, and every symbol of a failed call go on to the next provider.
  The synthetic market (the last fallback) only gets symbols some real provider failed on —
  never symbols every provider called unknown.
- sampled agreement: at most once per `agreement.sample_interval_seconds`, after an answer,
  the other `agreement.providers` are asked about the same symbols in the background
  (spare quota only, never holding up the answer) and the prices are compared.
- every source (`single_source` off, the seeds' behaviour): every provider is asked, in
  parallel with hedging on, one after another with it off.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Sequence

from market_gateway.app.agreement import AgreementTracker
from market_gateway.app.deadline import background_context
from market_gateway.app.outcomes import Outcome, failure_of
from market_gateway.app.provider_answers import Answer, Said, absorb, ask, worth_asking
from market_gateway.app.routing import MarketProvider, Router
from market_gateway.domain import (
    HedgingSettings,
    ProviderUnavailable,
    Quote,
    Symbol,
    Tunables,
    parse_symbol,
)
from market_gateway.ports import Clock
from resilience.hedging import AdaptiveDelay, Hedge


class _AttemptFailed(Exception):
    """A hedged attempt got no quote at all (its answer is kept for the error report)."""


class QuoteFetcher:
    def __init__(
        self,
        router: Router,
        agreement: AgreementTracker,
        clock: Clock,
        tunables: Callable[[], Tunables],
        context: contextvars.Context | None = None,
    ) -> None:
        """`context`: what background samples run in (the app's, not a request's)."""
        self._context = context or background_context()
        self._router = router
        self._agreement = agreement
        self._clock = clock
        self._tunables = tunables
        self._hedging: HedgingSettings | None = None
        self._hedge = self._new_hedge(tunables().hedging)
        self._samples: set[asyncio.Task[None]] = set()

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
        results = await self._in_order(order, symbols, hedge=switches.hedging)
        if switches.agreement and len(self._sampled(order)) > 1 and self._agreement.sample_due():
            self._sample_later(order, results)
        return results

    async def aclose(self) -> None:
        for task in list(self._samples):
            task.cancel()
        await asyncio.gather(*self._samples, return_exceptions=True)

    def _sample_later(self, order: list[MarketProvider], served: dict[str, Outcome]) -> None:
        """Ask the other agreement providers about what was just served, in the background
        (never past their spare quota, never holding up the answer), and judge."""
        quotes = {name: q for name, q in served.items() if isinstance(q, Quote)}
        others = [
            p for p in self._sampled(order) if p.name not in {q.provider for q in quotes.values()}
        ]
        if not quotes or not others:
            return
        symbols = [parse_symbol(name) for name in quotes]

        async def sample() -> None:
            answers = await asyncio.gather(
                *(ask(p, symbols, self._clock, max_wait=0.0) for p in others)
            )
            for symbol in symbols:
                said = {quotes[symbol.canonical].provider: quotes[symbol.canonical]}
                for provider, answer in zip(others, answers, strict=True):
                    if symbol.canonical in answer.found:
                        said[provider.name] = answer.found[symbol.canonical]
                self._agreement.judge(symbol.canonical, said)

        task = asyncio.get_running_loop().create_task(sample(), context=self._context.copy())
        self._samples.add(task)
        task.add_done_callback(self._samples.discard)

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
            asked = worth_asking(order[index], pending, said, order)
            if not asked:
                index += 1
                continue
            group = self._hedge_group(order, index) if hedge else [order[index]]
            answers, index = await self._ask_group(group, asked, index)
            for name, answer in answers:
                absorb(name, answer, asked, served, said)
            pending = [s for s in pending if s.canonical not in served]
        return {
            s.canonical: served.get(s.canonical) or failure_of(s, said[s.canonical])
            for s in symbols
        }

    async def _everyone(
        self, order: list[MarketProvider], symbols: Sequence[Symbol], *, parallel: bool
    ) -> dict[str, Outcome]:
        """Every real provider is asked (the seeds' gathering); the answer per symbol is the
        first in order, or with agreement the first in order that agrees."""
        asked = [p for p in order if not p.synthetic] or order  # offline: synthetic only
        if parallel:
            answers = list(await asyncio.gather(*(ask(p, symbols, self._clock) for p in asked)))
        else:
            answers = [await ask(p, symbols, self._clock) for p in asked]
        said: dict[str, list[tuple[str, Said]]] = {s.canonical: [] for s in symbols}
        results: dict[str, Outcome] = {}
        switches = self._tunables().optimizations
        names = [p.name for p in order]
        for symbol in symbols:
            quotes: dict[str, Quote] = {}
            for provider, answer in zip(asked, answers, strict=True):
                absorb(provider.name, answer, [symbol], quotes, said, key=provider.name)
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
            return [(group[0].name, await ask(group[0], symbols, self._clock))], index + 1
        failures: list[tuple[str, Answer]] = []

        def attempt(provider: MarketProvider) -> Callable[[], Awaitable[tuple[str, Answer]]]:
            async def run() -> tuple[str, Answer]:
                answer = await ask(provider, symbols, self._clock)
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
