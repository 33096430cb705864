"""Who answers what: every provider's guard, and the provider order per data type.

The order for quotes, bars and sentiment is `routing.<type>` (enabled providers missing
from it follow in their default order), demoted providers move behind the others, and the
synthetic market comes last — only as the fallback when `routing.synthetic_fallback` is on,
or alone when no real provider is configured (the offline default). A provider whose
breaker is open stays in the order: its guard refuses at once and the caller fails over.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TypeVar

from market_gateway.app.agreement import AgreementTracker
from market_gateway.app.cost_ledger import CostLedger
from market_gateway.app.guard import ProviderGuard, quota_of
from market_gateway.domain import (
    BreakerState,
    ProviderStatus,
    Symbol,
    Tunables,
)
from market_gateway.ports import Clock, QuoteSource, SentimentSource
from resilience.limiter import RateLimiter
from resilience.quota import Quota

SYNTHETIC = "synthetic"
# How many upstream requests one get_quotes makes: one per symbol (no batch endpoint), one
# per asset class (stocks and crypto live on different endpoints), else one.
PER_SYMBOL = frozenset({"alphavantage", "yahoo"})
PER_ASSET_CLASS = frozenset({"polygon", "alpaca"})
P = TypeVar("P", "MarketProvider", "AiProvider")
S = TypeVar("S", QuoteSource, SentimentSource)


@dataclass(frozen=True, slots=True)
class MarketProvider:
    guard: ProviderGuard
    source: QuoteSource

    @property
    def name(self) -> str:
        return self.guard.name

    @property
    def synthetic(self) -> bool:
        return self.name == SYNTHETIC

    @property
    def per_symbol(self) -> bool:
        return self.name in PER_SYMBOL

    def requests_for(self, symbols: Sequence[Symbol]) -> int:
        if self.per_symbol:
            return len(symbols)
        if self.name in PER_ASSET_CLASS:
            return len({s.asset_class for s in symbols}) or 1
        return 1


@dataclass(frozen=True, slots=True)
class AiProvider:
    guard: ProviderGuard
    source: SentimentSource

    @property
    def name(self) -> str:
        return self.guard.name


class Router:
    def __init__(
        self,
        *,
        market: Sequence[QuoteSource],
        ai: Sequence[SentimentSource],
        clock: Clock,
        limiter: RateLimiter,
        ledger: CostLedger,
        tunables: Callable[[], Tunables],
        agreement: AgreementTracker,
        credentials: Mapping[str, str] | None = None,
        known: Sequence[str] = (),
    ) -> None:
        self._tunables = tunables
        self._limiter = limiter
        self._agreement = agreement
        self._known = tuple(known)
        settings = tunables().resilience
        labels = credentials or {}

        def guard(name: str) -> ProviderGuard:
            return ProviderGuard(
                name,
                clock=clock,
                limiter=limiter,
                ledger=ledger,
                settings=settings,
                credential=labels.get(name, "default"),
            )

        self._market = [MarketProvider(guard(s.name), s) for s in _unique(market)]
        self._ai = [AiProvider(guard(s.name), s) for s in _unique(ai)]
        self.apply(tunables())

    @property
    def guards(self) -> list[ProviderGuard]:
        return [p.guard for p in self._market] + [p.guard for p in self._ai]

    def apply(self, tunables: Tunables) -> None:
        """Hot-reloaded settings: breaker and retry options, quotas."""
        quotas: dict[str, Quota] = {}
        for guard in self.guards:
            guard.apply(tunables.resilience)
            quotas[guard.name] = quota_of(tunables.provider(guard.name).quota)
        self._limiter.set_quotas(quotas)
        for guard in self.guards:
            usable = tunables.enabled(guard.name) and guard.breaker_state is not BreakerState.OPEN
            guard.stats.set_usable(usable)

    def quotes(self) -> list[MarketProvider]:
        return self._market_order(self._tunables().routing.quotes)

    def bars(self) -> list[MarketProvider]:
        return self._market_order(self._tunables().routing.bars)

    def sentiment(self) -> list[AiProvider]:
        tunables = self._tunables()
        enabled = [p for p in self._ai if tunables.enabled(p.name)]
        return _ranked(enabled, tunables.routing.sentiment, lambda name: False)

    @property
    def has_ai(self) -> bool:
        return bool(self._ai)

    async def statuses(self) -> list[ProviderStatus]:
        """Every configured provider, then every known one without credentials."""
        tunables = self._tunables()
        found = [
            replace(
                await g.status(enabled=tunables.enabled(g.name)),
                demoted_until=self._agreement.demoted_until(g.name),
            )
            for g in self.guards
        ]
        names = {status.name for status in found}
        for name in self._known:
            if name not in names:
                found.append(_unconfigured(name))
        return found

    def _market_order(self, preferred: Sequence[str]) -> list[MarketProvider]:
        tunables = self._tunables()
        enabled = [p for p in self._market if tunables.enabled(p.name)]
        real = _ranked([p for p in enabled if not p.synthetic], preferred, self._agreement.demoted)
        synthetic = [p for p in enabled if p.synthetic]
        if not real or tunables.routing.synthetic_fallback:
            return real + synthetic
        return real


def _ranked(
    providers: list[P], preferred: Sequence[str], demoted: Callable[[str], bool]
) -> list[P]:
    rank = {name: index for index, name in enumerate(preferred)}
    return sorted(providers, key=lambda p: (demoted(p.name), rank.get(p.name, len(rank))))


def _unique(sources: Sequence[S]) -> list[S]:
    seen: set[str] = set()
    unique = []
    for source in sources:
        if source.name not in seen:
            seen.add(source.name)
            unique.append(source)
    return unique


def _unconfigured(name: str) -> ProviderStatus:
    return ProviderStatus(
        name=name,
        enabled=False,
        breaker_state=BreakerState.DISABLED,
        limiter_remaining=-1.0,
        latency_p50_ms=0.0,
        latency_p99_ms=0.0,
        calls_total=0,
        errors_total=0,
        cost_usd_total=0.0,
        last_error="not configured (no credentials)",
    )
