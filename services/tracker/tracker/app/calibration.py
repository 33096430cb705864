"""Confidence calibration from resolved outcomes, refitted on a schedule and served.

Per group (every symbol with at least `min_samples` decided outcomes, and all symbols
together as the global fit): hold out the newest `held_out_fraction` of the outcomes,
fit isotonic and Platt calibration on the rest, keep the method with the lower held-out
Brier score, report Brier and ECE of raw confidence/100 and of the chosen fit on the
held-out part, then refit the chosen method on every outcome for serving
(docs/decisions/0012-tracker-calibration.md). A symbol below the minimum is served the
global fit with global_fallback set.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

import structlog
from opentelemetry import trace

from tracker import telemetry
from tracker.app.storage import StorageCalls
from tracker.domain import (
    GLOBAL,
    Calibration,
    CalibrationMethod,
    CalibrationNotFound,
    CalibrationPoint,
    OutcomeSample,
    ReliabilityBin,
    brier_score,
    expected_calibration_error,
    interpolate,
    reliability_bins,
    split_held_out,
)
from tracker.ports import CalibrationFitter, CalibrationRepository, Clock, OutcomeQueue

log = structlog.get_logger(__name__)
tracer = trace.get_tracer(__name__)


@dataclass(frozen=True, kw_only=True)
class CalibrationSettings:
    min_samples: int = 200
    window_days: int = 30
    held_out_fraction: float = 0.3
    refit_seconds: float = 3600.0
    cache_seconds: float = 30.0  # how long a replica serves what it loaded before re-reading


@dataclass(frozen=True, kw_only=True)
class Reliability:
    """Reliability diagram data: bins of raw confidence/100 and of calibrated output."""

    symbol: str
    before: list[ReliabilityBin]
    after: list[ReliabilityBin]
    calibration: Calibration


class CalibrationService:
    def __init__(
        self,
        outcomes: OutcomeQueue,
        repository: CalibrationRepository,
        fitter: CalibrationFitter,
        clock: Clock,
        settings: CalibrationSettings,
    ) -> None:
        self._outcomes = outcomes
        self._repository = repository
        self._fitter = fitter
        self._clock = clock
        self.settings = settings
        self._storage = StorageCalls(clock)
        self._cache: dict[str, Calibration] = {}
        self._loaded_at: float | None = None

    async def run(self) -> None:
        """Refit whenever the stored fit is older than the refit interval, until cancelled."""
        while True:
            try:
                await self.refit_if_due()
            except Exception:  # a failed fit must not stop the schedule
                telemetry.CALIBRATION_FITS.labels("failed").inc()
                log.exception("calibration_refit_failed")
            await self._clock.sleep(min(self.settings.refit_seconds, 300.0))

    async def refit_if_due(self) -> list[Calibration] | None:
        """Fit unless some replica fitted within the refit interval."""
        stored = await self._load(force=True)
        newest = max((c.fit_time for c in stored.values()), default=None)
        interval = timedelta(seconds=self.settings.refit_seconds)
        if newest is not None and self._clock.now() - newest < interval:
            telemetry.CALIBRATION_FITS.labels("skipped").inc()
            return None
        return await self.fit_all()

    async def fit_all(self) -> list[Calibration]:
        """Fit every group with enough outcomes and replace the stored calibrations with
        them; when no group has enough, keep the stored ones and return []."""
        with tracer.start_as_current_span("tracker.calibration_fit") as span:
            samples = await self._samples()
            groups: dict[str, list[OutcomeSample]] = defaultdict(list)
            for sample in samples:
                groups[sample.symbol].append(sample)
            groups[GLOBAL] = samples
            fitted = [
                c
                for symbol, group in sorted(groups.items())
                if (c := await self._fit_group(symbol, group)) is not None
            ]
            span.set_attribute("argo.calibration.samples", len(samples))
            span.set_attribute("argo.calibration.fits", len(fitted))
        if not fitted:  # too few outcomes now: keep serving what was fitted before, if any
            telemetry.CALIBRATION_FITS.labels("skipped").inc()
            log.info(
                "calibration_not_refitted", samples=len(samples), needed=self.settings.min_samples
            )
            return []
        await self._storage("save_calibrations", self._repository.save_calibrations(fitted))
        self._cache = {c.symbol: c for c in fitted}
        self._loaded_at = self._clock.monotonic()
        for c in fitted:
            label = c.symbol or "global"
            telemetry.CALIBRATION_ECE.labels(label).set(c.ece_after)
            telemetry.CALIBRATION_BRIER.labels(label).set(c.brier_after)
        telemetry.CALIBRATION_FITS.labels("fitted").inc()
        log.info("calibration_fitted", samples=len(samples), fits=len(fitted))
        return fitted

    async def get(self, symbol: str) -> Calibration:
        """The symbol's fit, else the global one (global_fallback); "" asks for global."""
        cache = await self._load()
        if symbol in cache:
            return cache[symbol]
        if GLOBAL in cache:
            return replace(cache[GLOBAL], global_fallback=True)
        raise CalibrationNotFound(
            f"no calibration fitted yet: need {self.settings.min_samples} resolved outcomes"
        )

    async def reliability(self, symbol: str) -> Reliability:
        """Before/after reliability bins over every outcome of the symbol (or all)."""
        calibration = await self.get(symbol)
        samples = [s for s in await self._samples() if not symbol or s.symbol == symbol]
        if not samples:
            raise CalibrationNotFound(f"no resolved outcomes for {symbol or 'any symbol'}")
        won = [s.won for s in samples]
        raw = [s.raw_confidence / 100.0 for s in samples]
        calibrated = [calibration.probability(s.raw_confidence) for s in samples]
        return Reliability(
            symbol=symbol,
            before=reliability_bins(raw, won),
            after=reliability_bins(calibrated, won),
            calibration=calibration,
        )

    async def _samples(self) -> list[OutcomeSample]:
        since = self._clock.now() - timedelta(days=self.settings.window_days)
        return await self._storage("outcome_samples", self._outcomes.outcome_samples(since))

    async def _load(self, *, force: bool = False) -> dict[str, Calibration]:
        now = self._clock.monotonic()
        stale = self._loaded_at is None or now - self._loaded_at >= self.settings.cache_seconds
        if force or stale:
            loaded = await self._storage("load_calibrations", self._repository.load_calibrations())
            self._cache = {c.symbol: c for c in loaded}
            self._loaded_at = now
        return self._cache

    async def _fit_group(self, symbol: str, samples: list[OutcomeSample]) -> Calibration | None:
        if len(samples) < self.settings.min_samples:
            return None
        train, held_out = split_held_out(samples, self.settings.held_out_fraction)
        won = [s.won for s in held_out]
        raw = [s.raw_confidence for s in held_out]
        scored: list[tuple[float, CalibrationMethod, tuple[CalibrationPoint, ...]]] = []
        for method in (CalibrationMethod.PLATT, CalibrationMethod.ISOTONIC):
            points = await self._fit(method, train)
            if points:
                probabilities = [interpolate(points, x) for x in raw]
                scored.append((brier_score(probabilities, won), method, points))
        if not scored:
            return None
        _, method, chosen = min(scored, key=lambda s: s[0])  # ties keep the smoother Platt
        final = await self._fit(method, samples) or chosen
        before = [x / 100.0 for x in raw]
        after = [interpolate(chosen, x) for x in raw]
        return Calibration(
            symbol=symbol,
            method=method,
            points=final,
            sample_size=len(samples),
            held_out_size=len(held_out),
            brier_before=brier_score(before, won),
            brier_after=brier_score(after, won),
            ece_before=expected_calibration_error(before, won),
            ece_after=expected_calibration_error(after, won),
            fit_time=self._clock.now(),
        )

    async def _fit(
        self, method: CalibrationMethod, samples: Sequence[OutcomeSample]
    ) -> tuple[CalibrationPoint, ...]:
        """The fitted knots, or () when the method cannot fit these outcomes."""
        won = [s.won for s in samples]
        if len(set(won)) < 2 and method is CalibrationMethod.PLATT:
            return ()  # logistic regression needs both classes
        try:
            return await self._fitter.fit(method, [s.raw_confidence for s in samples], won)
        except ValueError as e:
            log.warning("calibration_method_failed", method=method.value, error=str(e))
            return ()
