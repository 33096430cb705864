"""Delivery of new signals to the tracker through the durable outbox.

Every new signal is appended to the outbox (on local disk) before anything else sees it,
and leaves it only after the tracker acknowledged it in a RecordSignals call, so a signal
is delivered in at least one successful call even across restarts of either side; a lost
acknowledgement means a resend, which the tracker absorbs as a duplicate (it is idempotent
on signal_id): every signal arrives exactly once.

Two paths send batches of at most `batch_size` signals:
- inline (`publish`): right after a generation appended its signals, one RecordSignals
  call with just those, in the caller's context (the span joins the caller's trace),
  without retries;
- background (`run`): whatever else waits (an inline call failed, the tracker was away, a
  previous process left entries) is drained oldest first under `resilience.Retry`
  (exponential backoff with full jitter up to `max_backoff_seconds`, 6 attempts a round,
  the same pause between rounds).
Signals an inline call is carrying are in flight; the background path leaves them alone,
so no signal is sent by both at once.

Signals the tracker refuses as invalid (per item in its answer, or a whole batch from an
all-or-nothing tracker, which is then split to isolate them) are moved aside in the outbox
(counted) and the rest settled. When the outbox is full, new signals are refused
(counted) and nothing already waiting is dropped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import structlog
from tenacity.wait import wait_random_exponential

from resilience.retry import Retry
from signal_engine.domain import OutboxError, Signal, SinkRejected, SinkUnavailable
from signal_engine.ports import Clock, Outbox, OutboxEntry, SignalSink
from signal_engine.telemetry import DELIVERIES, DELIVERY_FAILURES, OUTBOX_DEPTH, OUTBOX_REFUSED

log = structlog.get_logger(__name__)


def _retryable(error: BaseException) -> bool:
    return isinstance(error, SinkUnavailable)


class OutboxDelivery:
    def __init__(
        self,
        outbox: Outbox,
        sink: SignalSink,
        clock: Clock,
        *,
        batch_size: int = 500,
        max_backoff_seconds: float = 15.0,
        retry: Retry | None = None,
        idle_seconds: float = 1.0,
    ) -> None:
        self._outbox = outbox
        self._sink = sink
        self._clock = clock
        self._batch_size = batch_size
        self._retry = retry or Retry(
            "tracker_record_signals",
            max_attempts=6,
            wait=wait_random_exponential(multiplier=0.2, max=max_backoff_seconds),
            is_retryable=_retryable,
            clock=clock,
        )
        self._idle = idle_seconds
        self._cooldown = max_backoff_seconds
        self._drain_lock = asyncio.Lock()  # one background drain at a time
        self._in_flight: set[str] = set()  # signal ids an inline call carries
        self._outage = False
        self.delivered_total = 0
        self.refused_total = 0
        self.rejected_total = 0
        OUTBOX_DEPTH.set(outbox.depth)

    @property
    def depth(self) -> int:
        return self._outbox.depth

    @property
    def tracker_away(self) -> bool:
        return self._outage

    async def publish(self, signals: Sequence[Signal]) -> None:
        """Append `signals` durably, then send just them once (inline)."""
        if not signals:
            return
        carried = {s.signal_id for s in signals}
        self._in_flight |= carried
        try:
            entries = await self._append(signals)
            for start in range(0, len(entries), self._batch_size):
                await self._send(entries[start : start + self._batch_size])
        except SinkUnavailable as e:
            self._enter_outage(e)  # they wait in the outbox for the background path
        except OutboxError as e:
            log.error("outbox_failed", error=str(e))
        else:
            self._leave_outage()
        finally:
            self._in_flight -= carried

    async def run(self) -> None:
        """Background loop (forever): drain waiting entries with retries and backoff."""
        while True:
            await self._clock.sleep(self._idle)
            if self._outbox.depth <= len(self._in_flight):
                continue
            try:
                await self.deliver_waiting()
            except SinkUnavailable as e:
                self._enter_outage(e)
                await self._clock.sleep(self._cooldown)
            except OutboxError as e:
                log.error("outbox_failed", error=str(e))
                await self._clock.sleep(self._cooldown)

    async def deliver_waiting(self) -> int:
        """One round of the background path: drain the outbox under the retry policy;
        return how many were settled. Raises SinkUnavailable when the policy gives up."""
        return await self._retry.execute(self._drain)

    async def final_attempt(self) -> None:
        """Shutdown: one pass; what stays waits in the outbox for the next start."""
        try:
            await self._drain()
        except (SinkUnavailable, OutboxError) as e:
            log.warning("final_delivery_failed", error=str(e))
        if self._outbox.depth:
            log.warning("outbox_kept_for_next_start", depth=self._outbox.depth)

    async def _append(self, signals: Sequence[Signal]) -> list[OutboxEntry]:
        try:
            entries = await self._outbox.append(signals)
        except OutboxError as e:
            log.error("outbox_write_failed", error=str(e), signals=len(signals))
            entries = []
        refused = len(signals) - len(entries)
        if refused:
            self.refused_total += refused
            OUTBOX_REFUSED.inc(refused)
            log.error(
                "outbox_refused_signals",
                refused=refused,
                depth=self._outbox.depth,
                capacity=self._outbox.capacity,
            )
        OUTBOX_DEPTH.set(self._outbox.depth)
        return entries

    async def _drain(self) -> int:
        settled = 0
        async with self._drain_lock:
            while True:
                carried = set(self._in_flight)
                waiting = await self._outbox.peek(self._batch_size + len(carried))
                batch = [e for e in waiting if e.signal.signal_id not in carried]
                if not batch:
                    break
                settled += await self._send(batch[: self._batch_size])
        self._leave_outage()
        return settled

    async def _send(self, entries: list[OutboxEntry]) -> int:
        """One RecordSignals call; return how many entries it settled."""
        try:
            receipt = await self._sink.record([e.signal for e in entries])
        except SinkRejected as e:
            if len(entries) > 1:  # an all-or-nothing tracker: isolate the invalid one(s)
                return sum([await self._send([entry]) for entry in entries])
            await self._set_aside(entries[0], str(e))
            return 1
        refused = [e for e in entries if e.signal.signal_id in receipt.rejected]
        for entry in refused:
            await self._set_aside(entry, receipt.rejected[entry.signal.signal_id])
        stored = [e for e in entries if e.signal.signal_id not in receipt.rejected]
        await self._outbox.remove([e.entry_id for e in stored])
        self.delivered_total += len(stored)
        DELIVERIES.labels(result="accepted").inc(receipt.accepted)
        DELIVERIES.labels(result="duplicate").inc(receipt.duplicate)
        OUTBOX_DEPTH.set(self._outbox.depth)
        log.info(
            "signals_delivered",
            accepted=receipt.accepted,
            duplicate=receipt.duplicate,
            rejected=len(refused),
            waiting=self.depth,
        )
        return len(entries)

    async def _set_aside(self, entry: OutboxEntry, reason: str) -> None:
        """An entry the tracker refused as invalid: retrying it cannot succeed."""
        await self._outbox.reject(entry.entry_id, reason)
        self.rejected_total += 1
        DELIVERIES.labels(result="rejected").inc()
        OUTBOX_DEPTH.set(self._outbox.depth)
        log.error("signal_rejected_by_tracker", signal_id=entry.signal.signal_id, reason=reason)

    def _enter_outage(self, error: SinkUnavailable) -> None:
        DELIVERY_FAILURES.inc()
        if not self._outage:
            log.warning("tracker_unreachable_signals_wait_in_outbox", error=str(error))
        self._outage = True

    def _leave_outage(self) -> None:
        if self._outage:
            self._outage = False
            log.info("tracker_delivery_recovered", waiting=self._outbox.depth)
