"""The durable outbox: signals waiting for the tracker, in a SQLite file on local disk."""

from signal_engine.adapters.outbox.sqlite_outbox import OUTBOX_FILE, SqliteOutbox

__all__ = ["OUTBOX_FILE", "SqliteOutbox"]
