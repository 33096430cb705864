"""The reliability diagram: observed win rate against predicted probability, before and
after calibration, with the sample count per bin underneath."""

from __future__ import annotations

from pathlib import Path

from tracker.app import Reliability
from tracker.domain import ReliabilityBin


def write_reliability_diagram(reliability: Reliability, out: Path) -> None:
    """Render the PNG with matplotlib's Agg backend (no display needed)."""
    import matplotlib  # type: ignore[import-untyped]

    matplotlib.use("Agg")  # set here, not at import: importing this module changes nothing
    import matplotlib.pyplot as plt  # type: ignore[import-untyped]

    c = reliability.calibration
    figure, (curve, counts) = plt.subplots(
        2, 1, figsize=(6.4, 7.2), height_ratios=(3, 1), sharex=True
    )
    try:
        curve.plot([0, 1], [0, 1], linestyle=":", color="grey", label="perfectly calibrated")
        for bins, label, marker in (
            (reliability.before, f"raw confidence (ECE {c.ece_before:.3f})", "o"),
            (reliability.after, f"{c.method.value.lower()} (ECE {c.ece_after:.3f})", "s"),
        ):
            curve.plot(_x(bins), [b.observed_rate for b in bins], marker=marker, label=label)
        curve.set_ylabel("observed win rate")
        curve.set_xlim(0, 1)
        curve.set_ylim(0, 1)
        name = reliability.symbol or "all symbols"
        fallback = " (global fit)" if c.global_fallback else ""
        curve.set_title(f"Reliability: {name}{fallback}, {c.sample_size} outcomes")
        curve.legend(loc="upper left")
        width = 0.04
        for bins, shift, label in (
            (reliability.before, -width / 2, "raw"),
            (reliability.after, width / 2, "calibrated"),
        ):
            xs = [x + shift for x in _x(bins)]
            counts.bar(xs, [b.count for b in bins], width=width, label=label)
        counts.set_xlabel("predicted win probability")
        counts.set_ylabel("signals")
        counts.legend(loc="upper left")
        out.parent.mkdir(parents=True, exist_ok=True)
        figure.tight_layout()
        figure.savefig(out, format="png", dpi=110)
    finally:
        plt.close(figure)


def _x(bins: list[ReliabilityBin]) -> list[float]:
    return [b.mean_predicted for b in bins]
