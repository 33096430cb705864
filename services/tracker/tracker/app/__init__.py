"""Tracker use cases. Each service names only the ports it needs."""

from tracker.app.analytics import AnalyticsService
from tracker.app.archive import ArchiveService, ArchiveSettings
from tracker.app.calibration import CalibrationService, CalibrationSettings, Reliability
from tracker.app.outcomes import OutcomeSettings, OutcomeTracker, PassResult
from tracker.app.tracker import RecordTotals, TrackerApp

__all__ = [
    "AnalyticsService",
    "ArchiveService",
    "ArchiveSettings",
    "CalibrationService",
    "CalibrationSettings",
    "OutcomeSettings",
    "OutcomeTracker",
    "PassResult",
    "RecordTotals",
    "Reliability",
    "TrackerApp",
]
