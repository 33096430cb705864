"""Bad input to every Tracker RPC: INVALID_ARGUMENT (or a REJECTED item) naming the field,
never a bug, and never a stored row for a rejected signal.

The tracker is wired by its real bootstrap() over a real SQLite database and a file archive
in a temporary directory (prices from the unit tests' fake), served once per module on a
background loop (see harness.py). "Not stored" is read back through QuerySignals.
"""

from __future__ import annotations

import base64
import itertools
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import grpc
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from argo.signals.v1 import signals_pb2
from argo.tracker.v1 import tracker_pb2, tracker_pb2_grpc
from service_runtime.clock import FakeClock
from service_runtime.wiring import Wiring
from tests.unit.tracker.factories import T0
from tests.unit.tracker.fakes import FakePriceSource
from tracker.bootstrap import bootstrap
from tracker.config import load_settings

from . import strategies as s
from . import tracker_cases as cases
from .harness import (
    Answer,
    LoopThread,
    Served,
    assert_never_a_bug,
    assert_rejected,
    check_raw_requests,
    names,
    rpc_methods,
    unary,
)

BOUNDED = settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NOW = T0.replace(hour=16)  # the tracker's clock: the day of T0 is not over yet
_ids = (str(uuid.UUID(int=n)) for n in itertools.count(1))


@dataclass
class Tracker:
    loop: LoopThread
    channel: grpc.aio.Channel
    stub: tracker_pb2_grpc.TrackerStub

    def call(self, method: str, request: object) -> Answer:
        return self.loop.run(unary(getattr(self.stub, method), request))

    def stored_ids(self) -> set[str]:
        """Every signal id the database holds, paged through QuerySignals."""
        found: set[str] = set()
        token = ""
        while True:
            request = tracker_pb2.QuerySignalsRequest(page_size=1000, page_token=token)
            page = self.call("QuerySignals", request)
            assert page.code == grpc.StatusCode.OK, page
            found |= {row.signal.signal_id for row in page.reply.signals}
            token = page.reply.next_page_token
            if not token:
                return found


@pytest.fixture(scope="module")
def tracker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tracker]:
    root: Path = tmp_path_factory.mktemp("badinput-tracker")
    loop = LoopThread()
    config = load_settings(
        {"DATABASE_URL": f"sqlite:///{root / 'tracker.db'}", "ARCHIVE_URL": root.as_uri()}
    )

    async def start() -> tuple[Served, Wiring, grpc.aio.Channel]:
        wiring = await bootstrap(config, clock=FakeClock(NOW), prices=FakePriceSource())
        served = Served(wiring.register)
        return served, wiring, await served.start()

    served, wiring, channel = loop.run(start())
    try:
        yield Tracker(loop, channel, tracker_pb2_grpc.TrackerStub(channel))
    finally:
        loop.run(served.stop())
        loop.run(wiring.exit_stack.aclose())
        loop.close()


def copy(signal: signals_pb2.Signal) -> signals_pb2.Signal:
    twin = signals_pb2.Signal()
    twin.CopyFrom(signal)
    return twin


def fresh(signals: list[signals_pb2.Signal]) -> list[signals_pb2.Signal]:
    for signal in signals:
        signal.signal_id = next(_ids)
    return signals


@BOUNDED
@given(batch=cases.broken_batches())
def test_broken_signals_are_rejected_per_item_naming_the_field_and_not_stored(
    tracker: Tracker, batch: tuple[list[signals_pb2.Signal], list[cases.Breakage]]
) -> None:
    """Else a signal with NaN confidence, an unknown action or an inverted horizon would
    be stored and poison outcomes and calibration, or the valid rest of the batch lost."""
    signals, breakages = batch
    fresh(signals)
    for index, mutate, _ in breakages:
        mutate(signals[index])
    answer = tracker.call("RecordSignals", tracker_pb2.RecordSignalsRequest(signals=signals))
    assert answer.code == grpc.StatusCode.OK, answer
    results = answer.reply.results
    broken = {index: path for index, _, path in breakages}
    for index, result in enumerate(results):
        if index in broken:
            assert result.status == tracker_pb2.RECORD_STATUS_REJECTED, (index, result)
            named = Answer(answer.code, violations=[(v.field, "") for v in result.violations])
            assert names(named, broken[index]), (broken[index], result.violations)
        else:
            assert result.status == tracker_pb2.RECORD_STATUS_ACCEPTED, (index, result)
    stored = tracker.stored_ids()
    assert {results[i].signal_id for i in broken}.isdisjoint(stored)
    assert {r.signal_id for i, r in enumerate(results) if i not in broken} <= stored


@BOUNDED
@given(batch=cases.broken_batches())
def test_all_or_nothing_batches_with_a_broken_signal_store_nothing(
    tracker: Tracker, batch: tuple[list[signals_pb2.Signal], list[cases.Breakage]]
) -> None:
    """Else a caller asking for all-or-nothing would get part of its batch stored (and
    store it twice on its retry) without learning which signal was wrong."""
    signals, breakages = batch
    fresh(signals)
    sent = {signal.signal_id for signal in signals}
    for index, mutate, _ in breakages:
        mutate(signals[index])
    request = tracker_pb2.RecordSignalsRequest(signals=signals, all_or_nothing=True)
    fields = {f"signals[{index}].{path}" for index, _, path in breakages}
    assert_rejected(tracker.call("RecordSignals", request), fields)
    assert sent.isdisjoint(tracker.stored_ids())


@settings(BOUNDED, max_examples=10)
@given(size=st.sampled_from([0, 1001, 1500]), signal=cases.valid_signals)
def test_empty_or_oversized_batches_are_invalid_argument(
    tracker: Tracker, size: int, signal: signals_pb2.Signal
) -> None:
    """Else an empty call would look like a success and an oversized one would hold the
    database in one huge transaction."""
    signals = fresh([copy(signal) for _ in range(size)]) if size else []
    answer = tracker.call("RecordSignals", tracker_pb2.RecordSignalsRequest(signals=signals))
    assert_rejected(answer, {"signals"})
    assert {sig.signal_id for sig in signals}.isdisjoint(tracker.stored_ids())


@settings(BOUNDED, max_examples=30)
@given(signals=st.lists(cases.valid_signals, min_size=1, max_size=5), twice=st.booleans())
def test_valid_batches_are_stored_and_a_repeated_id_is_a_duplicate(
    tracker: Tracker, signals: list[signals_pb2.Signal], twice: bool
) -> None:
    """Else the validator would refuse valid signals (lost history), or a repeated id
    within a batch would be stored twice."""
    fresh(signals)
    if twice:
        signals.append(copy(signals[0]))
    answer = tracker.call("RecordSignals", tracker_pb2.RecordSignalsRequest(signals=signals))
    assert answer.code == grpc.StatusCode.OK, answer
    assert (answer.reply.accepted, answer.reply.duplicate) == (len(signals) - twice, twice)
    assert {sig.signal_id for sig in signals} <= tracker.stored_ids()


@BOUNDED
@given(case=cases.bad_query_requests())
def test_malformed_queries_are_invalid_argument_naming_the_field(
    tracker: Tracker, case: cases.Case
) -> None:
    """Else an unknown enum, a NaN bound or a forged page token would reach SQL (a crash
    or a silently wrong page) instead of telling the caller what to fix."""
    request, fields = case
    assert_rejected(tracker.call("QuerySignals", request), fields)


def _ending_at_the_first_instant() -> tracker_pb2.QuerySignalsRequest:
    request = tracker_pb2.QuerySignalsRequest()
    request.filter.end_time.seconds = -62135596800  # 0001-01-01T00:00:00Z (found by hypothesis)
    return request


@BOUNDED
@given(request=cases.query_requests())
@example(request=_ending_at_the_first_instant())
def test_valid_queries_succeed(tracker: Tracker, request: tracker_pb2.QuerySignalsRequest) -> None:
    """Else the validator would refuse documented filters (windows from year 1 to 9999,
    every action and outcome, min_confidence 0..100, page sizes 0..1000)."""
    answer = tracker.call("QuerySignals", request)
    assert answer.code == grpc.StatusCode.OK, answer


@settings(BOUNDED, max_examples=20)
@given(symbols=st.lists(cases.tracker_symbol, min_size=1, max_size=2), other=cases.tracker_symbol)
def test_a_page_token_only_works_with_its_own_filter(
    tracker: Tracker, symbols: list[str], other: str
) -> None:
    """Else a token reused with another filter would page through the wrong rows."""
    signals = fresh([cases.valid_signal(n, "AAPL", False) for n in range(3)])
    tracker.call("RecordSignals", tracker_pb2.RecordSignalsRequest(signals=signals))
    query = tracker_pb2.SignalFilter(symbols=["AAPL", *symbols])
    first = tracker.call("QuerySignals", tracker_pb2.QuerySignalsRequest(filter=query, page_size=1))
    token = first.reply.next_page_token
    assert first.code == grpc.StatusCode.OK and token, first
    same = tracker_pb2.QuerySignalsRequest(filter=query, page_size=1, page_token=token)
    assert tracker.call("QuerySignals", same).code == grpc.StatusCode.OK
    changed = tracker_pb2.SignalFilter(symbols=["AAPL", *symbols, other], min_confidence=1.0)
    moved = tracker_pb2.QuerySignalsRequest(filter=changed, page_size=1, page_token=token)
    assert_rejected(tracker.call("QuerySignals", moved), {"page_token"})


@BOUNDED
@given(
    method=st.sampled_from(["GetOutcomeStats", "GetAnalytics"]),
    data=st.data(),
)
def test_malformed_windows_are_invalid_argument(
    tracker: Tracker, method: str, data: st.DataObject
) -> None:
    """Else a negative or huge day count would overflow a date computation (INTERNAL)
    or a malformed symbol would silently match nothing."""
    message = getattr(tracker_pb2, f"{method}Request")
    request, fields = data.draw(cases.bad_window_requests(message))
    assert_rejected(tracker.call(method, request), fields)


@BOUNDED
@given(
    method=st.sampled_from(["GetOutcomeStats", "GetAnalytics"]),
    days=st.integers(0, cases.MAX_DAYS),
    symbol=cases.tracker_symbol | st.just(""),
)
def test_valid_windows_succeed(tracker: Tracker, method: str, days: int, symbol: str) -> None:
    """Else the validator would refuse the whole documented range of days."""
    request = getattr(tracker_pb2, f"{method}Request")(days=days, symbol=symbol)
    answer = tracker.call(method, request)
    assert answer.code == grpc.StatusCode.OK, answer


@BOUNDED
@given(symbol=cases.bad_tracker_symbol.filter(lambda v: v != ""))
def test_malformed_calibration_symbol_is_invalid_argument(tracker: Tracker, symbol: str) -> None:
    """Else a malformed symbol would be looked up (and answered NOT_FOUND, hiding the
    caller's mistake)."""
    answer = tracker.call("GetCalibration", tracker_pb2.GetCalibrationRequest(symbol=symbol))
    assert_rejected(answer, {"symbol"})


@settings(BOUNDED, max_examples=20)
@given(symbol=cases.tracker_symbol | st.just(""))
def test_valid_calibration_symbol_is_answered_or_not_found(tracker: Tracker, symbol: str) -> None:
    """Else a valid symbol would be refused; NOT_FOUND is right while nothing is fitted."""
    answer = tracker.call("GetCalibration", tracker_pb2.GetCalibrationRequest(symbol=symbol))
    assert answer.code in (grpc.StatusCode.OK, grpc.StatusCode.NOT_FOUND), answer


@BOUNDED
@given(
    date=st.one_of(s.bad_days(), st.integers(NOW.toordinal(), 3_652_059).map(s.days), st.just(""))
)
def test_malformed_or_unfinished_archive_day_is_invalid_argument(
    tracker: Tracker, date: str
) -> None:
    """Else a malformed day would reach the object store's key, or a day not yet over
    would be archived (and pruned) while signals still arrive for it."""
    answer = tracker.call("RunArchive", tracker_pb2.RunArchiveRequest(date=date))
    assert_rejected(answer, {"date"})


@settings(BOUNDED, max_examples=8)
@given(days_ago=st.integers(1, 400) | st.just(NOW.toordinal() - 1))  # back to 0001-01-01
def test_past_archive_days_are_archived(tracker: Tracker, days_ago: int) -> None:
    """Else the validator would refuse every archivable day."""
    day = (NOW - timedelta(days=days_ago)).date().isoformat()
    answer = tracker.call("RunArchive", tracker_pb2.RunArchiveRequest(date=day))
    assert answer.code == grpc.StatusCode.OK, answer
    assert answer.reply.date == day


@BOUNDED
@given(case=cases.bad_list_archives_requests())
def test_malformed_list_archives_is_invalid_argument(tracker: Tracker, case: cases.Case) -> None:
    """Else malformed dates, an inverted range or a forged page token would list the
    wrong manifests instead of telling the caller what to fix."""
    request, fields = case
    assert_rejected(tracker.call("ListArchives", request), fields)


@settings(BOUNDED, max_examples=30)
@given(
    start=st.integers(1, 3_652_059),
    span=st.integers(0, 1000),
    page_size=st.integers(0, cases.MAX_PAGE),
)
def test_valid_list_archives_succeed(
    tracker: Tracker, start: int, span: int, page_size: int
) -> None:
    """Else valid day ranges (year 1 to 9999) would be refused or crash the paging."""
    end = min(start + span, 3_652_059)
    request = tracker_pb2.ListArchivesRequest(
        start_date=s.days(start), end_date=s.days(end), page_size=page_size
    )
    answer = tracker.call("ListArchives", request)
    assert answer.code == grpc.StatusCode.OK, answer


DESCRIPTOR = tracker_pb2.DESCRIPTOR.services_by_name["Tracker"]
COVERED = (
    "GetAnalytics",
    "GetCalibration",
    "GetOutcomeStats",
    "ListArchives",
    "QuerySignals",
    "RecordSignals",
    "RunArchive",
)


def test_every_rpc_of_the_service_is_covered() -> None:
    """Else a new RPC would ship without bad-input properties (add it to COVERED once
    its properties exist in this module)."""
    assert sorted(rpc_methods(DESCRIPTOR)) == sorted(COVERED)


@pytest.mark.parametrize("name", COVERED)
@settings(BOUNDED, max_examples=10)
@given(data=st.data())
def test_raw_request_bytes_are_refused_or_answered_without_a_bug(
    tracker: Tracker, name: str, data: st.DataObject
) -> None:
    """Else bytes that are not the request message would answer OK (a RecordSignals
    storing who knows what), INTERNAL or hang; the server keeps serving."""
    writes = name == "RecordSignals"  # the only RPC that stores signals
    before = tracker.stored_ids() if writes else set()
    request_type = rpc_methods(DESCRIPTOR)[name][0]
    payload = data.draw(st.one_of(s.undecodable(request_type), s.unknown_fields()))
    check_raw_requests(tracker.loop, tracker.channel, DESCRIPTOR, name, payload)
    assert not writes or tracker.stored_ids() == before


@settings(BOUNDED, max_examples=40)
@given(signal=cases.extreme_signals())
def test_extreme_valid_signals_are_stored_and_read_back_unchanged(
    tracker: Tracker, signal: signals_pb2.Signal
) -> None:
    """Else a valid signal at an edge (year 1, a denormal price, the largest data age)
    would be refused, crash the store, or come back altered from it."""
    fresh([signal])
    answer = tracker.call("RecordSignals", tracker_pb2.RecordSignalsRequest(signals=[signal]))
    assert answer.code == grpc.StatusCode.OK, answer
    assert answer.reply.accepted == 1, answer.reply
    query = tracker_pb2.SignalFilter(symbols=[signal.symbol])
    query.start_time.CopyFrom(signal.create_time)
    query.end_time.seconds = signal.create_time.seconds + 1
    found = tracker.call("QuerySignals", tracker_pb2.QuerySignalsRequest(filter=query))
    assert found.code == grpc.StatusCode.OK, found
    (row,) = [r.signal for r in found.reply.signals if r.signal.signal_id == signal.signal_id]
    for name in ("confidence", "raw_confidence", "entry_price", "target_price", "stop_price"):
        assert getattr(row, name) == getattr(signal, name), name
    assert (row.create_time, row.expire_time) == (signal.create_time, signal.expire_time)
    assert row.lineage[0] == signal.lineage[0]


def _token_fields(token: str) -> dict[str, object]:
    return dict(json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))))


@settings(BOUNDED, max_examples=30)
@given(
    micros=st.one_of(st.integers(), st.sampled_from([-(2**63), 2**63 - 1, 0])),
    day=st.integers(1, 3_652_059).map(s.days),
)
def test_issued_tokens_with_any_cursor_are_answered_without_a_bug(
    tracker: Tracker, micros: int, day: str
) -> None:
    """Else a token we issued, edited to carry an extreme cursor (year 1, year 9999, an
    int64 edge) but keeping its filter fingerprint, would crash the paging (INTERNAL)."""
    signals = fresh([cases.valid_signal(n, "TSLA", True) for n in range(2)])
    tracker.call("RecordSignals", tracker_pb2.RecordSignalsRequest(signals=signals))
    query = tracker_pb2.QuerySignalsRequest(page_size=1)
    issued = tracker.call("QuerySignals", query).reply.next_page_token
    edited = _token_fields(issued) | {"t": micros}
    query.page_token = s.json_token(edited)
    answer = tracker.call("QuerySignals", query)
    assert_never_a_bug(answer)
    assert answer.code in (grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT), answer

    for days_ago in (1, 2):
        past = (NOW - timedelta(days=days_ago)).date().isoformat()
        tracker.call("RunArchive", tracker_pb2.RunArchiveRequest(date=past))
    listing = tracker_pb2.ListArchivesRequest(page_size=1)
    issued = tracker.call("ListArchives", listing).reply.next_page_token
    listing.page_token = s.json_token(_token_fields(issued) | {"d": day})
    answer = tracker.call("ListArchives", listing)
    assert_never_a_bug(answer)
    assert answer.code in (grpc.StatusCode.OK, grpc.StatusCode.INVALID_ARGUMENT), answer
