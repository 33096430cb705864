-- Signals and their outcomes. Idempotent: safe to apply twice.
CREATE TABLE IF NOT EXISTS signals (
    signal_id      uuid             PRIMARY KEY,
    symbol         text             NOT NULL,
    action         text             NOT NULL CHECK (action IN ('BUY', 'SELL', 'HOLD')),
    confidence     double precision NOT NULL CHECK (confidence BETWEEN 0 AND 100),
    raw_confidence double precision NOT NULL CHECK (raw_confidence BETWEEN 0 AND 100),
    entry_price    double precision NOT NULL CHECK (entry_price > 0),
    target_price   double precision NOT NULL CHECK (target_price > 0),
    stop_price     double precision NOT NULL CHECK (stop_price > 0),
    create_time    timestamptz      NOT NULL,
    expire_time    timestamptz      NOT NULL,
    regime         text             NOT NULL DEFAULT 'UNSPECIFIED',
    lineage        jsonb            NOT NULL DEFAULT '[]'::jsonb,
    trace_id       text             NOT NULL DEFAULT '',
    outcome        text             NOT NULL DEFAULT 'OPEN'
                   CHECK (outcome IN ('OPEN', 'WIN', 'LOSS', 'EXPIRED')),
    exit_price     double precision,
    exit_time      timestamptz,
    pnl_percent    double precision,
    record_time    timestamptz      NOT NULL,
    CHECK (expire_time > create_time)
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
