"""Outcome tracking: follow every open signal with gateway prices until it resolves.

A pass claims due open signals in batches (replicas claim disjoint batches; see
OutcomeQueue.claim_open), fetches one batched quote call for the batch's symbols and the
completed one-minute bars of each symbol since its least-advanced signal was checked, and
applies the domain's outcome rules. Resolutions and the progress of the others are
written in the claim's transaction. A symbol the gateway cannot price this time keeps
its signals open and unchanged (only stamped as examined), so the next pass retries
them; nothing is resolved on missing data.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from opentelemetry import trace

from tracker import telemetry
from tracker.domain import (
    OpenSignal,
    OutcomeResolution,
    PriceBar,
    PriceDataUnavailable,
    PriceTick,
    Progress,
    StorageUnavailable,
    evaluate,
)
from tracker.ports import Clock, OutcomeQueue, PriceSource, SignalStore

log = structlog.get_logger(__name__)
tracer = trace.get_tracer(__name__)

WIN_RATE_DAYS = 30
BARS_CONCURRENCY = 8  # GetBars calls in flight per batch


@dataclass(frozen=True, kw_only=True)
class OutcomeSettings:
    poll_seconds: float = 15.0
    batch_size: int = 200
    hold_band_pct: float = 0.5  # a HOLD wins when price ends within this % of entry
    # Bars not fetched this long after a batch was claimed wait for the next pass (a claim
    # holds row locks in an open transaction while prices are fetched).
    fetch_budget_seconds: float = 20.0


@dataclass
class PassResult:
    examined: int = 0
    resolved: list[str] = field(default_factory=list)
    deferred: int = 0  # signals whose symbol could not be priced this pass


class OutcomeTracker:
    def __init__(
        self,
        queue: OutcomeQueue,
        stats: SignalStore,
        prices: PriceSource,
        clock: Clock,
        settings: OutcomeSettings,
    ) -> None:
        self._queue = queue
        self._stats = stats
        self._prices = prices
        self._clock = clock
        self.settings = settings
        self._failing = False
        self._win_rate_known = False
        self._passes = 0
        self._resolved = 0
        self._open = 0
        self._last_pass_seconds = 0.0

    async def run(self) -> None:
        """Pass after pass until cancelled; an outage is logged once and retried next pass,
        an unexpected error is logged with its traceback and counted."""
        while True:
            try:
                await self.track_once()
                if self._failing:
                    log.info("outcome_tracking_recovered")
                self._failing = False
            except (StorageUnavailable, PriceDataUnavailable) as e:
                if not self._failing:
                    log.warning("outcome_tracking_paused", error=str(e))
                self._failing = True
            except Exception:  # a bug: say so loudly, but keep recording signals meanwhile
                telemetry.OUTCOME_PASS_FAILURES.inc()
                log.exception("outcome_pass_failed")
            await self._clock.sleep(self.settings.poll_seconds)

    async def track_once(self) -> PassResult:
        """Examine every open signal not yet examined in this pass."""
        result = PassResult()
        started = self._clock.monotonic()
        pass_start = self._clock.now()
        with tracer.start_as_current_span("tracker.outcome_pass") as span:
            while True:
                now = self._clock.now()
                claim_cm = self._queue.claim_open(
                    pass_start, self.settings.batch_size, checked_at=now
                )
                async with claim_cm as claim:
                    batch = list(claim.signals)
                    if not batch:
                        break
                    resolutions, progress, deferred = await self._evaluate(batch)
                    resolved = await claim.settle(resolutions, progress)
                result.examined += len(batch)
                result.deferred += deferred
                result.resolved.extend(resolved)
                self._count(resolutions, set(resolved))
                if len(batch) < self.settings.batch_size:
                    break
            span.set_attribute("argo.outcomes.examined", result.examined)
            span.set_attribute("argo.outcomes.resolved", len(result.resolved))
        self._last_pass_seconds = self._clock.monotonic() - started
        telemetry.OUTCOME_PASS_SECONDS.observe(self._last_pass_seconds)
        self._passes += 1
        self._resolved += len(result.resolved)
        await self._update_gauges(bool(result.resolved))
        if result.resolved or result.deferred:
            log.info(
                "outcome_pass_done",
                examined=result.examined,
                resolved=len(result.resolved),
                deferred=result.deferred,
            )
        return result

    async def _evaluate(
        self, batch: Sequence[OpenSignal]
    ) -> tuple[list[OutcomeResolution], list[Progress], int]:
        now = self._clock.now()
        by_symbol: dict[str, list[OpenSignal]] = defaultdict(list)
        for tracked in batch:
            by_symbol[tracked.signal.symbol].append(tracked)
        ticks = await self._latest(list(by_symbol))
        budget_end = self._clock.monotonic() + self.settings.fetch_budget_seconds
        gate = asyncio.Semaphore(BARS_CONCURRENCY)

        async def bars_of(symbol: str) -> list[PriceBar] | None:
            async with gate:
                if self._clock.monotonic() >= budget_end:
                    return None  # the claim's transaction must not idle for long: defer
                return await self._bars(symbol, by_symbol[symbol], now)

        fetched = await asyncio.gather(*(bars_of(symbol) for symbol in by_symbol))
        resolutions: list[OutcomeResolution] = []
        progress: list[Progress] = []
        deferred = 0
        for (symbol, group), bars in zip(by_symbol.items(), fetched, strict=True):
            for tracked in group:
                if bars is None:
                    deferred += 1
                    progress.append(_unchanged(tracked))
                    continue
                band = self.settings.hold_band_pct
                outcome = evaluate(tracked, bars, ticks.get(symbol), now, hold_band_pct=band)
                if outcome.resolution is not None:
                    resolutions.append(outcome.resolution)
                elif outcome.progress is not None:
                    progress.append(outcome.progress)
        return resolutions, progress, deferred

    async def _latest(self, symbols: list[str]) -> dict[str, PriceTick]:
        try:
            return await self._prices.latest(symbols)
        except PriceDataUnavailable as e:  # bars alone still decide; the quote only helps
            telemetry.PRICE_FAILURES.labels("quotes").inc()
            log.debug("outcome_quotes_unavailable", error=str(e))
            return {}

    async def _bars(
        self, symbol: str, group: Sequence[OpenSignal], now: datetime
    ) -> list[PriceBar] | None:
        start = min(t.checked_through for t in group)
        end = min(now, max(t.signal.expire_time for t in group))
        if end - start < timedelta(minutes=1):  # no complete bar can fit
            return []
        try:
            return await self._prices.bars(symbol, start, end)
        except PriceDataUnavailable as e:
            telemetry.PRICE_FAILURES.labels("bars").inc()
            log.debug("outcome_bars_unavailable", symbol=symbol, error=str(e))
            return None

    def _count(self, resolutions: Sequence[OutcomeResolution], resolved: set[str]) -> None:
        for r in resolutions:
            if r.signal_id in resolved:
                telemetry.OUTCOMES.labels(r.outcome.value).inc()
                log.debug(
                    "signal_resolved",
                    signal_id=r.signal_id,
                    outcome=r.outcome.value,
                    pnl_percent=round(r.pnl_percent, 4),
                )

    def performance(self) -> dict[str, float | int]:
        """Outcome tracking's part of the health endpoint's performance object."""
        return {
            "outcome_passes": self._passes,
            "total_outcomes_resolved": self._resolved,
            "open_signals": self._open,
            "last_outcome_pass_seconds": self._last_pass_seconds,
        }

    async def _update_gauges(self, resolved_any: bool) -> None:
        self._open = await self._queue.count_open()
        telemetry.OPEN_SIGNALS.set(self._open)
        if resolved_any or not self._win_rate_known:
            self._win_rate_known = True
            since = self._clock.now() - timedelta(days=WIN_RATE_DAYS)
            stats = await self._stats.outcome_stats(since, None)
            telemetry.WIN_RATE.set(stats.win_rate)


def _unchanged(tracked: OpenSignal) -> Progress:
    return Progress(
        signal_id=tracked.signal.signal_id,
        checked_through=tracked.checked_through,
        mark_price=tracked.mark_price,
        mark_time=tracked.mark_time,
    )
