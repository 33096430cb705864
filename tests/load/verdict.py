"""What every load test does with its results: print the table, judge them by settings."""

from __future__ import annotations

from collections.abc import Sequence

from tests.load import settings
from tests.load.driver import LoadResult, check_results, check_rss, table, warmup_errors


def broken_promises(
    results: Sequence[LoadResult], rss: dict[str, tuple[float, float]]
) -> list[str]:
    """`results` holds the warm-up phase's then the run's (same RPCs, same order): the
    run's figures are printed and checked, the warm-up only for errors."""
    warmup, measured = results[: len(results) // 2], results[len(results) // 2 :]
    print("\n" + table(measured, rss))
    return (
        check_results(
            measured,
            p99_limit_seconds=settings.P99_LIMIT_SECONDS,
            stream_p99_limit_seconds=settings.STREAM_P99_LIMIT_SECONDS,
            p99_limit_overrides=settings.P99_LIMIT_OVERRIDES,
        )
        + warmup_errors(warmup)
        + check_rss(
            rss,
            limit_mib=settings.RSS_GROWTH_LIMIT_MIB,
            limit_fraction=settings.RSS_GROWTH_LIMIT_FRACTION,
        )
    )
