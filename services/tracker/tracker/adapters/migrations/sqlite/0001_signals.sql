-- Signals and their outcomes. Times are integer microseconds since the Unix epoch (UTC),
-- so ordering and range filters compare numbers. Idempotent: safe to apply twice.
CREATE TABLE IF NOT EXISTS signals (
    signal_id      TEXT    PRIMARY KEY,               -- canonical lowercase UUID
    symbol         TEXT    NOT NULL,
    action         TEXT    NOT NULL CHECK (action IN ('BUY', 'SELL', 'HOLD')),
    confidence     REAL    NOT NULL,
    raw_confidence REAL    NOT NULL,
    entry_price    REAL    NOT NULL,
    target_price   REAL    NOT NULL,
    stop_price     REAL    NOT NULL,
    create_time    INTEGER NOT NULL,
    expire_time    INTEGER NOT NULL,
    regime         TEXT    NOT NULL DEFAULT 'UNSPECIFIED',
    lineage        TEXT    NOT NULL DEFAULT '[]',     -- JSON array of source contributions
    trace_id       TEXT    NOT NULL DEFAULT '',
    outcome        TEXT    NOT NULL DEFAULT 'OPEN'
                   CHECK (outcome IN ('OPEN', 'WIN', 'LOSS', 'EXPIRED')),
    exit_price     REAL,
    exit_time      INTEGER,
    pnl_percent    REAL,
    record_time    INTEGER NOT NULL
);

-- The old tracker's indexes (seed-facts.md), with signal_id appended where a keyset page
-- (create_time DESC, signal_id DESC) walks the index.
CREATE INDEX IF NOT EXISTS signals_confidence_idx ON signals (confidence);
CREATE INDEX IF NOT EXISTS signals_create_time_idx ON signals (create_time DESC, signal_id DESC);
CREATE INDEX IF NOT EXISTS signals_symbol_time_idx
    ON signals (symbol, create_time DESC, signal_id DESC);
CREATE INDEX IF NOT EXISTS signals_symbol_outcome_idx ON signals (symbol, outcome);
CREATE INDEX IF NOT EXISTS signals_time_outcome_idx ON signals (create_time, outcome);
CREATE INDEX IF NOT EXISTS signals_symbol_time_confidence_idx
    ON signals (symbol, create_time DESC, confidence DESC);
