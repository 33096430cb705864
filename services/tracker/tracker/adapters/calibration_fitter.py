"""CalibrationFitter on scikit-learn: isotonic regression and Platt (logistic) scaling.

Fits run in a worker thread (they are CPU-bound); scikit-learn is imported there on first
use, so starting the service (or a command that never fits) does not pay its import.
Both methods return knots over raw confidence 0..100 that reproduce the fit under linear
interpolation: isotonic's own thresholds (its predict() interpolates linearly between
them too), and Platt's sigmoid sampled every `platt_step` points of confidence.
"""

from __future__ import annotations

import asyncio
import warnings
from collections.abc import Sequence

import numpy as np

from tracker.domain import CalibrationMethod, CalibrationPoint


class SklearnCalibrationFitter:
    def __init__(self, *, platt_step: float = 1.0) -> None:
        self._grid = np.arange(0.0, 100.0 + platt_step / 2, platt_step)

    async def fit(
        self, method: CalibrationMethod, raw_confidence: Sequence[float], won: Sequence[bool]
    ) -> tuple[CalibrationPoint, ...]:
        x = np.asarray(raw_confidence, dtype=float)
        y = np.asarray(won, dtype=float)
        if len(x) == 0 or len(x) != len(y):
            raise ValueError("need as many outcomes as confidences, at least one")
        if method is CalibrationMethod.ISOTONIC:
            return await asyncio.to_thread(self._isotonic, x, y)
        return await asyncio.to_thread(self._platt, x, y)

    @staticmethod
    def _isotonic(x: np.ndarray, y: np.ndarray) -> tuple[CalibrationPoint, ...]:
        from sklearn.isotonic import IsotonicRegression  # type: ignore[import-untyped]

        model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        model.fit(x, y)
        xs, ys = model.X_thresholds_, model.y_thresholds_
        return tuple(CalibrationPoint(float(a), float(b)) for a, b in zip(xs, ys, strict=True))

    def _platt(self, x: np.ndarray, y: np.ndarray) -> tuple[CalibrationPoint, ...]:
        from sklearn.exceptions import ConvergenceWarning  # type: ignore[import-untyped]
        from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

        if len(np.unique(y)) < 2:
            raise ValueError("Platt scaling needs both wins and losses")
        model = LogisticRegression(C=1e6)  # (almost) unregularised, as in Platt's method
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit((x / 100.0).reshape(-1, 1), y)
        probabilities = model.predict_proba((self._grid / 100.0).reshape(-1, 1))[:, 1]
        return tuple(
            CalibrationPoint(float(a), float(b))
            for a, b in zip(self._grid, probabilities, strict=True)
        )
