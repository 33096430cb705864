"""Cross-provider agreement: when several providers priced one symbol at once.

The consensus price is the median of their prices; the dispersion is (max - min) / median
in basis points (histogram `argo_market_gateway_quote_dispersion_bps`). A provider farther
than `agreement.threshold_bps` from the consensus disagrees. With at least
`min_providers_to_demote` (3) answers — with two, nobody can tell which one is wrong — a
provider that disagrees `demote_after` times in a row is demoted for `demotion_seconds`:
moved behind the others in every provider order (log `provider_demoted`, counter
`argo_market_gateway_provider_demotions_total`, gauge `argo_market_gateway_provider_demoted`).
An agreeing answer clears its strikes.

Several answers exist when `optimizations.single_source` is off (every provider is asked;
the answer then comes from the first provider in the order that agrees), or when a sample
is due (`agreement.sample_interval_seconds`): at most once per interval, after a fetch, the
other `agreement.providers` are asked about the same symbols in the background, with spare
quota only.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from market_gateway.domain import AgreementSettings, Quote
from market_gateway.ports import Clock
from market_gateway.telemetry import PROVIDER_DEMOTED, PROVIDER_DEMOTIONS, QUOTE_DISPERSION

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Consensus:
    symbol: str
    price: float  # median of the providers' prices
    dispersion_bps: float
    deviations_bps: dict[str, float]  # provider -> |price - consensus| in bps

    def agrees(self, provider: str, threshold_bps: float) -> bool:
        return self.deviations_bps.get(provider, 0.0) <= threshold_bps


def consensus(symbol: str, prices: Mapping[str, float]) -> Consensus | None:
    """The median and spread of two or more providers' prices (None with fewer)."""
    if len(prices) < 2:
        return None
    median = statistics.median(prices.values())
    spread = (max(prices.values()) - min(prices.values())) / median * 10_000
    deviations = {p: abs(price - median) / median * 10_000 for p, price in prices.items()}
    return Consensus(symbol, median, spread, deviations)


class AgreementTracker:
    def __init__(self, clock: Clock, settings: Callable[[], AgreementSettings]) -> None:
        self._clock = clock
        self._settings = settings
        self._strikes: dict[str, int] = {}
        self._demoted_until: dict[str, float] = {}
        self._sampled_at: float | None = None

    def sample_due(self) -> bool:
        """True at most once per sample interval (the caller then fans out)."""
        now = self._clock.monotonic()
        interval = self._settings().sample_interval_seconds
        if self._sampled_at is not None and now - self._sampled_at < interval:
            return False
        self._sampled_at = now
        return True

    def demoted(self, provider: str) -> bool:
        until = self._demoted_until.get(provider)
        if until is None:
            return False
        if self._clock.monotonic() < until:
            return True
        del self._demoted_until[provider]
        PROVIDER_DEMOTED.labels(provider=provider).set(0)
        log.info("provider_restored", provider=provider)
        return False

    def demoted_until(self, provider: str) -> datetime | None:
        """When the provider's demotion ends (wall time), None when it is not demoted."""
        if not self.demoted(provider):
            return None
        left = self._demoted_until[provider] - self._clock.monotonic()
        return self._clock.now() + timedelta(seconds=left)

    def judge(self, symbol: str, answers: Mapping[str, Quote]) -> Consensus | None:
        """Record what several providers said about one symbol; strike the outliers."""
        found = consensus(symbol, {name: quote.price for name, quote in answers.items()})
        if found is None:
            return None
        settings = self._settings()
        QUOTE_DISPERSION.observe(found.dispersion_bps)
        if len(answers) < settings.min_providers_to_demote:
            return found
        for provider in answers:
            if found.agrees(provider, settings.threshold_bps):
                self._strikes.pop(provider, None)
                continue
            strikes = self._strikes[provider] = self._strikes.get(provider, 0) + 1
            log.warning(
                "provider_disagrees",
                provider=provider,
                symbol=symbol,
                deviation_bps=round(found.deviations_bps[provider], 1),
                consensus=found.price,
                strikes=strikes,
            )
            if strikes >= settings.demote_after and not self.demoted(provider):
                self._demote(provider, settings)
        return found

    def choose(
        self, order: Sequence[str], answers: Mapping[str, Quote], found: Consensus | None
    ) -> Quote:
        """The answer to serve: the first provider in `order` that agrees with the consensus
        (the first that answered when there is no consensus or nobody agrees)."""
        answered = [name for name in order if name in answers]
        if found is not None:
            threshold = self._settings().threshold_bps
            for name in answered:
                if found.agrees(name, threshold):
                    return answers[name]
        return answers[answered[0]] if answered else next(iter(answers.values()))

    def _demote(self, provider: str, settings: AgreementSettings) -> None:
        self._demoted_until[provider] = self._clock.monotonic() + settings.demotion_seconds
        self._strikes.pop(provider, None)
        PROVIDER_DEMOTIONS.labels(provider=provider).inc()
        PROVIDER_DEMOTED.labels(provider=provider).set(1)
        log.warning("provider_demoted", provider=provider, seconds=settings.demotion_seconds)
