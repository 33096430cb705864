"""Adaptive polling: which owned symbols a cycle quotes, and when each is due again.

Every cycle normally; stocks outside the NYSE session every `off_session_poll_seconds`;
quiet symbols every `quiet_poll_multiplier` cycles' time (domain.poll_interval).

Intervals are whole cycles (rounded up: a symbol is never polled more often than its
interval says), and a symbol is due at the cycle nearest its next poll (up to half a
cycle early): the next poll is counted from when a cycle's work started, the next cycle
from when its loop iteration started, so "exactly n cycles later" lands a few
microseconds either side of a cycle; a strict comparison would skip cycles at random.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta

from signal_engine.app.symbol_state import SymbolBook
from signal_engine.domain import Tunables, is_crypto, poll_interval
from signal_engine.ports import Clock, MarketCalendar
from signal_engine.telemetry import POLLS_DEFERRED


class PollSchedule:
    def __init__(
        self, book: SymbolBook, calendar: MarketCalendar, clock: Clock, cycle_seconds: float
    ) -> None:
        self._book = book
        self._calendar = calendar
        self._clock = clock
        self._cycle_seconds = cycle_seconds

    async def prepare(self, symbols: Sequence[str]) -> None:
        """Load the session calendar now if any symbol is a stock: the first question
        builds it (a child process, about a second), which would otherwise stretch the
        first cycle past its period."""
        if not all(is_crypto(s) for s in symbols):
            await self._calendar.stocks_open(self._clock.now())

    def due(self, owned: list[str]) -> list[str]:
        """The owned symbols whose next poll falls at this cycle (all of them at first)."""
        horizon = self._clock.now() + timedelta(seconds=self._cycle_seconds / 2)
        due = []
        for symbol in owned:
            next_poll = self._book.state(symbol).next_poll
            if next_poll is None or next_poll <= horizon:
                due.append(symbol)
        if len(due) < len(owned):
            POLLS_DEFERRED.inc(len(owned) - len(due))
        return due

    async def schedule(self, symbols: list[str], cycle_start: datetime, t: Tunables) -> None:
        """Set each polled symbol's next poll, counted from the start of its cycle."""
        stocks_open = True
        if not all(is_crypto(s) for s in symbols):
            stocks_open = await self._calendar.stocks_open(cycle_start)
        for symbol in symbols:
            state = self._book.state(symbol)
            seconds = poll_interval(
                self._cycle_seconds,
                state.volatility,
                crypto=is_crypto(symbol),
                session_open=stocks_open,
                t=t,
            )
            cycles = max(1, math.ceil(seconds / self._cycle_seconds - 1e-9))
            state.next_poll = cycle_start + timedelta(seconds=cycles * self._cycle_seconds)
