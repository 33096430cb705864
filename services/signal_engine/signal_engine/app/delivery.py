"""Delivery of new signals to the tracker, retried with backoff while it is away.

Foundation version: the pending signals live in a bounded in-memory deque, so a restart
loses what was not yet delivered and an overflow drops the oldest (counted and logged).
The durable on-disk outbox that survives restarts is engine issue #5.

A signal leaves the deque only after the tracker acknowledged it, so each one is delivered
in exactly one successful RecordSignals call; a lost acknowledgement means a resend, which
the tracker counts as a duplicate (it is idempotent on signal_id).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Sequence

import structlog

from signal_engine.domain import Signal, SinkError, SinkRejected
from signal_engine.ports import Clock, SignalSink
from signal_engine.telemetry import DELIVERIES, DELIVERY_FAILURES, PENDING_DELIVERIES

log = structlog.get_logger(__name__)


class PendingDeliveries:
    def __init__(
        self,
        sink: SignalSink,
        clock: Clock,
        *,
        capacity: int = 10_000,
        batch_size: int = 500,
        base_backoff_seconds: float = 0.5,
        max_backoff_seconds: float = 30.0,
    ) -> None:
        self._sink = sink
        self._clock = clock
        self._capacity = capacity
        self._batch_size = batch_size
        self._base_backoff = base_backoff_seconds
        self._max_backoff = max_backoff_seconds
        self._queue: deque[Signal] = deque()
        self._in_flight: list[Signal] = []
        self._failures = 0
        self._next_attempt = float("-inf")
        self._lock = asyncio.Lock()
        self.delivered_total = 0
        self.dropped_total = 0
        self.rejected_total = 0

    @property
    def depth(self) -> int:
        return len(self._queue) + len(self._in_flight)

    def add(self, signals: Sequence[Signal]) -> None:
        self._queue.extend(signals)
        self._enforce_capacity()

    def _enforce_capacity(self) -> None:
        overflow = self.depth - self._capacity
        for _ in range(max(0, overflow)):
            dropped = self._queue.popleft()
            self.dropped_total += 1
            DELIVERIES.labels(result="dropped").inc()
            log.error(
                "pending_signal_dropped", signal_id=dropped.signal_id, capacity=self._capacity
            )
        PENDING_DELIVERIES.set(self.depth)

    async def deliver(self, *, ignore_backoff: bool = False) -> int:
        """Send what is pending unless backing off; return how many were acknowledged."""
        async with self._lock:
            backing_off = self._clock.monotonic() < self._next_attempt
            if not self._queue or (backing_off and not ignore_backoff):
                return 0
            delivered = 0
            batch_size = self._batch_size
            while self._queue:
                count = min(batch_size, len(self._queue))
                self._in_flight = [self._queue.popleft() for _ in range(count)]
                try:
                    accepted, duplicate = await self._sink.record(self._in_flight)
                except SinkRejected as e:
                    if len(self._in_flight) > 1:
                        self._restore()
                        batch_size = 1  # isolate the invalid signal(s), keep the rest
                        continue
                    self._reject(self._in_flight[0], e)
                    continue
                except SinkError as e:
                    self._restore()
                    self._back_off(e)
                    return delivered
                except BaseException:
                    self._restore()
                    raise
                delivered += len(self._in_flight)
                self._acknowledge(accepted, duplicate)
            return delivered

    def _restore(self) -> None:
        self._queue.extendleft(reversed(self._in_flight))
        self._in_flight = []
        self._enforce_capacity()

    def _acknowledge(self, accepted: int, duplicate: int) -> None:
        self.delivered_total += len(self._in_flight)
        self._in_flight = []
        self._failures = 0
        DELIVERIES.labels(result="accepted").inc(accepted)
        DELIVERIES.labels(result="duplicate").inc(duplicate)
        PENDING_DELIVERIES.set(self.depth)
        log.info("signals_delivered", accepted=accepted, duplicate=duplicate, pending=self.depth)

    def _reject(self, signal: Signal, error: SinkRejected) -> None:
        self._in_flight = []
        self.rejected_total += 1
        DELIVERIES.labels(result="rejected").inc()
        PENDING_DELIVERIES.set(self.depth)
        log.error("signal_rejected_by_tracker", signal_id=signal.signal_id, error=str(error))

    def _back_off(self, error: SinkError) -> None:
        self._failures += 1
        delay = min(self._max_backoff, self._base_backoff * 2 ** (self._failures - 1))
        self._next_attempt = self._clock.monotonic() + delay
        DELIVERY_FAILURES.inc()
        log.warning(
            "signal_delivery_failed",
            error=str(error),
            pending=self.depth,
            retry_in_seconds=delay,
        )
