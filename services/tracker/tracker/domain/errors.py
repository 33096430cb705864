"""The tracker core's error tree; the gRPC edge maps each class to one status code."""

from __future__ import annotations

from collections.abc import Sequence

Violation = tuple[str, str]
"""(field path, description), e.g. ("signals[3].confidence", "must be within 0..100")."""


class DomainError(Exception):
    """Base of every error the tracker's core raises on purpose."""


class InvalidArgument(DomainError):
    """Input broke a rule; `violations` lists every (field path, description)."""

    def __init__(self, violations: Sequence[Violation]) -> None:
        self.violations = list(violations)
        super().__init__("; ".join(f"{f}: {d}" for f, d in self.violations) or "invalid input")


class InvalidSignal(InvalidArgument):
    """A signal (or the batch holding it) is malformed."""


class InvalidQuery(InvalidArgument):
    """A query's filter, page size, page token or window is malformed."""


class StorageUnavailable(DomainError):
    """The database cannot be reached or is overloaded; retrying later may succeed."""


class NotFound(DomainError):
    """The requested thing does not exist (yet)."""


class CalibrationNotFound(NotFound):
    """No calibration has been fitted for the symbol nor globally."""


class PriceDataUnavailable(DomainError):
    """The market gateway cannot serve prices now; outcome tracking retries later."""


class ArchiveUnavailable(DomainError):
    """The archive's object store cannot be reached; retrying later may succeed."""


class ArchiveCorrupted(DomainError):
    """An archived object does not match its manifest (size, checksum, rows or ids)."""
