"""Inputs fetched per symbol: bars (incrementally) and AI sentiment (per provider).

Bars: the first fetch takes the latest `bars_limit` 1-minute bars; later ones ask only for
the window after the last bar held, and only once a new bar can have completed. When a
whole window's worth of bars is missing (a long gap) the state is rebuilt from the latest
`bars_limit` bars instead of paging through the gap.

Sentiment: asked per symbol every `sentiment_refresh_seconds`; each provider's latest
verdict is a source until it is `sentiment_max_age_seconds` old. With
`sentiment_in_background` a held verdict is refreshed by a task of its own: the pass does
not wait for the AI (only a symbol's first verdict is waited for). A gateway without
sentiment (UNIMPLEMENTED) or one that cannot answer (UNAVAILABLE, ...) means no sentiment
input, never a failed cycle.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

import structlog

from signal_engine.app.symbol_state import SymbolState
from signal_engine.domain import (
    GatewayError,
    SentimentUnsupported,
    SentimentVerdict,
    Timeframe,
    Tunables,
)
from signal_engine.ports import Clock, MarketData
from signal_engine.telemetry import SENTIMENT_FETCHES, UPSTREAM_CALLS

log = structlog.get_logger(__name__)

BAR_TIMEFRAME = Timeframe.ONE_MINUTE
BAR_WIDTH = timedelta(minutes=1)
SENTIMENT_UNSUPPORTED_RETRY = timedelta(minutes=10)


class BarFeed:
    def __init__(self, market: MarketData, clock: Clock) -> None:
        self._market = market
        self._clock = clock

    async def refresh(self, state: SymbolState, t: Tunables) -> tuple[int, int]:
        """Fold new bars into `state`; return (bars added, gateway calls made).
        Raises GatewayError subclasses when the gateway fails."""
        now = self._clock.now()
        held = state.indicators.last_bar_start
        if held is None:
            return await self._rebuild(state, t), 1
        if state.next_bar_check is not None and now < state.next_bar_check:
            return 0, 0
        UPSTREAM_CALLS.labels(method="GetBars").inc()
        series = await self._market.get_bars(
            state.symbol, BAR_TIMEFRAME, t.bars_limit, start=held + BAR_WIDTH
        )
        if len(series.bars) >= t.bars_limit:
            log.info("bar_gap_rebuild", symbol=state.symbol, since=held.isoformat())
            state.reset_bars()
            return await self._rebuild(state, t), 2
        added = state.indicators.update(series.bars)
        if added:
            state.bars_provider, state.bars_cache_status = series.provider, series.cache_status
        self._schedule(state, now, added)
        return added, 1

    async def _rebuild(self, state: SymbolState, t: Tunables) -> int:
        UPSTREAM_CALLS.labels(method="GetBars").inc()
        series = await self._market.get_bars(state.symbol, BAR_TIMEFRAME, t.bars_limit)
        added = state.indicators.update(series.bars)
        state.bars_provider, state.bars_cache_status = series.provider, series.cache_status
        self._schedule(state, self._clock.now(), added)
        return added

    @staticmethod
    def _schedule(state: SymbolState, now: datetime, added: int) -> None:
        held = state.indicators.last_bar_start
        if added and held is not None:
            state.next_bar_check = held + 2 * BAR_WIDTH  # when the next bar completes
        else:
            state.next_bar_check = now + BAR_WIDTH  # nothing new: ask again a bar later

    def data_age_ms(self, state: SymbolState) -> int:
        held = state.indicators.last_bar_start
        if held is None:
            return 0
        age = self._clock.now() - (held + BAR_WIDTH)
        return max(0, int(age.total_seconds() * 1000))


class SentimentFeed:
    def __init__(self, market: MarketData, clock: Clock) -> None:
        self._market = market
        self._clock = clock
        self._unsupported_until: datetime | None = None
        self._asking: set[str] = set()  # symbols whose refresh runs in the background
        self._tasks: set[asyncio.Task[None]] = set()
        self._background_calls = 0

    async def refresh(self, states: Sequence[SymbolState], t: Tunables) -> int:
        """Ask for the due symbols' sentiment (most important first, bounded concurrency)
        and expire old verdicts; return the gateway calls made. A changed, new or expired
        verdict bumps the symbol's sentiment_version. With `sentiment_in_background`, only
        symbols never asked are waited for; the others are refreshed by a task of their own
        (the pass uses the verdicts held; a new one is a changed input of the next pass)."""
        now = self._clock.now()
        for state in states:
            _expire(state, now, t)
        if self._unsupported_until is not None:
            if now < self._unsupported_until:
                return 0
            self._unsupported_until = None  # time to ask whether sentiment has arrived
        due = [
            s
            for s in states
            if (s.next_sentiment is None or now >= s.next_sentiment)
            and s.symbol not in self._asking
        ]
        later = [s for s in due if s.next_sentiment is not None]
        if t.sentiment_in_background and later:
            self._start(later, t, now)
            due = [s for s in due if s.next_sentiment is None]
        return await self._ask(due, t, now) if due else 0

    def take_background_calls(self) -> int:
        """Gateway calls the background refreshes made since the last take."""
        calls, self._background_calls = self._background_calls, 0
        return calls

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _start(self, states: list[SymbolState], t: Tunables, now: datetime) -> None:
        self._asking.update(s.symbol for s in states)

        async def run() -> None:
            try:
                self._background_calls += await self._ask(states, t, now)
            except Exception:
                log.exception("sentiment_refresh_crashed")
            finally:
                self._asking.difference_update(s.symbol for s in states)

        task = asyncio.get_running_loop().create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _ask(self, due: Sequence[SymbolState], t: Tunables, now: datetime) -> int:
        gate = asyncio.Semaphore(t.max_concurrency)
        refresh = timedelta(seconds=t.sentiment_refresh_seconds)
        calls = 0

        async def one(state: SymbolState) -> None:
            nonlocal calls
            async with gate:
                if self._unsupported_until is not None:
                    return  # another symbol just learned the gateway has no sentiment
                calls += 1
                UPSTREAM_CALLS.labels(method="GetSentiment").inc()
                try:
                    verdict = await self._market.get_sentiment(state.symbol)
                except SentimentUnsupported as e:
                    self._note_unsupported(e, now)
                    return
                except GatewayError as e:
                    SENTIMENT_FETCHES.labels(result="unavailable").inc()
                    log.debug("sentiment_unavailable", symbol=state.symbol, error=str(e))
                    state.next_sentiment = now + refresh
                    return
            state.next_sentiment = now + refresh
            if verdict.time is None:
                verdict = replace(verdict, time=now - timedelta(milliseconds=verdict.age_ms))
            held = state.verdicts.get(verdict.provider)
            if _same(held, verdict) or _too_old(verdict, now, t):
                SENTIMENT_FETCHES.labels(result="unchanged").inc()
                return
            state.verdicts[verdict.provider] = verdict
            state.sentiment_version += 1
            SENTIMENT_FETCHES.labels(result="new").inc()

        await asyncio.gather(*(one(s) for s in due))
        return calls

    def _note_unsupported(self, error: SentimentUnsupported, now: datetime) -> None:
        if self._unsupported_until is None:
            log.info("sentiment_unsupported_by_gateway", error=str(error))
        SENTIMENT_FETCHES.labels(result="unsupported").inc()
        self._unsupported_until = now + SENTIMENT_UNSUPPORTED_RETRY


def _due(state: SymbolState, now: datetime) -> bool:
    return state.next_sentiment is None or now >= state.next_sentiment


def _same(held: SentimentVerdict | None, verdict: SentimentVerdict) -> bool:
    """The same verdict again (served from the gateway's cache, say)."""
    return held is not None and (held.score, held.confidence, held.time) == (
        verdict.score,
        verdict.confidence,
        verdict.time,
    )


def _too_old(verdict: SentimentVerdict, now: datetime, t: Tunables) -> bool:
    if verdict.time is None:
        return False
    return (now - verdict.time).total_seconds() > t.sentiment_max_age_seconds


def _expire(state: SymbolState, now: datetime, t: Tunables) -> None:
    expired = [p for p, v in state.verdicts.items() if _too_old(v, now, t)]
    for provider in expired:
        del state.verdicts[provider]
    if expired:
        state.sentiment_version += 1
