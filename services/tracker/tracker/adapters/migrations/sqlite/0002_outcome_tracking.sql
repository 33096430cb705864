-- Outcome tracking state of open signals (see the PostgreSQL migration of the same
-- number). Times are integer microseconds since the epoch (UTC).
ALTER TABLE signals ADD COLUMN checked_through INTEGER;
ALTER TABLE signals ADD COLUMN checked_at INTEGER;
ALTER TABLE signals ADD COLUMN mark_price REAL;
ALTER TABLE signals ADD COLUMN mark_time INTEGER;
UPDATE signals SET checked_through = create_time, checked_at = create_time
    WHERE checked_through IS NULL;

CREATE INDEX IF NOT EXISTS signals_open_due_idx ON signals (checked_at) WHERE outcome = 'OPEN';
CREATE INDEX IF NOT EXISTS signals_symbol_open_confidence_idx
    ON signals (symbol, confidence DESC) WHERE outcome = 'OPEN';
CREATE INDEX IF NOT EXISTS signals_decided_time_idx
    ON signals (create_time) WHERE outcome IN ('WIN', 'LOSS');
