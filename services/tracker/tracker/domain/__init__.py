"""Tracker domain: value objects, pagination, validation and the error tree.

Pure and stdlib-only: no I/O, no clock, no logging. Everything is re-exported here, so the
rest of the service imports `tracker.domain` only.
"""

from tracker.domain.errors import (
    DomainError,
    InvalidArgument,
    InvalidQuery,
    InvalidSignal,
    StorageUnavailable,
    Violation,
)
from tracker.domain.model import (
    MAX_BATCH_SIZE,
    MAX_PAGE_SIZE,
    Action,
    CacheStatus,
    Outcome,
    OutcomeResolution,
    OutcomeStats,
    RecordResult,
    Regime,
    Signal,
    SignalFilter,
    SourceContribution,
    TrackedSignal,
)
from tracker.domain.paging import PageToken, SignalCursor, SignalPage
from tracker.domain.validation import (
    filter_violations,
    signal_violations,
    symbol_violation,
    validate_batch,
)

__all__ = [
    "MAX_BATCH_SIZE",
    "MAX_PAGE_SIZE",
    "Action",
    "CacheStatus",
    "DomainError",
    "InvalidArgument",
    "InvalidQuery",
    "InvalidSignal",
    "Outcome",
    "OutcomeResolution",
    "OutcomeStats",
    "PageToken",
    "RecordResult",
    "Regime",
    "Signal",
    "SignalCursor",
    "SignalFilter",
    "SignalPage",
    "SourceContribution",
    "StorageUnavailable",
    "TrackedSignal",
    "Violation",
    "filter_violations",
    "signal_violations",
    "symbol_violation",
    "validate_batch",
]
