"""What the gateway keeps in its cache besides quotes and verdicts: bar series per symbol
and timeframe, extended at their newest end (incremental fetching)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from market_gateway.domain.values import Bar, Timeframe


@dataclass(frozen=True, slots=True)
class CachedBars:
    """The latest completed bars of one symbol and timeframe, oldest first, contiguous as the
    provider reported them (intervals without trading are absent). `depth` is the largest
    count asked for: a request for at most `depth` bars is served from here."""

    symbol: str
    timeframe: Timeframe
    provider: str
    depth: int
    bars: tuple[Bar, ...]
    checked_at: datetime  # when the provider was last asked for newer bars

    @property
    def newest_end(self) -> datetime | None:
        """End of the newest bar's interval, None without bars."""
        if not self.bars:
            return None
        return self.bars[-1].start_time + self.timeframe.width

    def extended(
        self, newer: list[Bar], provider: str, checked_at: datetime, max_bars: int
    ) -> CachedBars:
        """These bars plus `newer` ones (those not after the newest are dropped), keeping
        at most `max_bars` of the most recent."""
        last = self.bars[-1].start_time if self.bars else None
        fresh = tuple(b for b in newer if last is None or b.start_time > last)
        bars = (self.bars + fresh)[-max_bars:]
        return CachedBars(self.symbol, self.timeframe, provider, self.depth, bars, checked_at)
