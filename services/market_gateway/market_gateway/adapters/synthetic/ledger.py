"""Chained day summaries of one symbol: each day opens where the previous one closed.

Day 0 opens at the profile's starting price; later days chain forward, earlier days chain
backward (day -1 closes where day 0 opens). Storage is compact (seven doubles per day) so
long histories of daily bars stay cheap.
"""

from __future__ import annotations

from array import array

from market_gateway.adapters.synthetic.aggregation import DaySummary

_WIDTH = 7  # start log price + the six DaySummary fields


class Ledger:
    def __init__(self, origin_log_price: float) -> None:
        self._origin = origin_log_price
        self._forward = array("d")  # days 0, 1, 2, ...
        self._backward = array("d")  # days -1, -2, ...

    @property
    def days(self) -> int:
        """How many days the ledger holds."""
        return (len(self._forward) + len(self._backward)) // _WIDTH

    @property
    def next_forward_day(self) -> int:
        return len(self._forward) // _WIDTH

    @property
    def next_backward_day(self) -> int:
        return -(len(self._backward) // _WIDTH) - 1

    def knows(self, day: int) -> bool:
        return self.next_backward_day < day < self.next_forward_day

    def get(self, day: int) -> tuple[float, DaySummary]:
        """(opening log price, summary) of a known day."""
        table, row = (self._forward, day) if day >= 0 else (self._backward, -day - 1)
        values = table[row * _WIDTH : (row + 1) * _WIDTH]
        return values[0], DaySummary(*values[1:])

    def append_forward(self, summary: DaySummary) -> None:
        day = self.next_forward_day
        if day == 0:
            start = self._origin
        else:
            previous_start, previous = self.get(day - 1)
            start = previous_start + previous.total
        self._forward.extend(_row(start, summary))

    def append_backward(self, summary: DaySummary) -> None:
        day = self.next_backward_day
        following_start = self._origin if day == -1 else self.get(day + 1)[0]
        self._backward.extend(_row(following_start - summary.total, summary))


def _row(start: float, summary: DaySummary) -> tuple[float, ...]:
    return (
        start,
        summary.total,
        summary.high,
        summary.low,
        summary.volume,
        summary.vwap,
        summary.active_end,
    )
