-- Outcome tracking state of open signals: how far along its price path the tracker has
-- looked (checked_through), when it last looked (checked_at; claims take the least
-- recently examined first), and the last price it saw (mark_*).
ALTER TABLE signals ADD COLUMN IF NOT EXISTS checked_through timestamptz;
ALTER TABLE signals ADD COLUMN IF NOT EXISTS checked_at timestamptz;
ALTER TABLE signals ADD COLUMN IF NOT EXISTS mark_price double precision;
ALTER TABLE signals ADD COLUMN IF NOT EXISTS mark_time timestamptz;
UPDATE signals SET checked_through = create_time WHERE checked_through IS NULL;
UPDATE signals SET checked_at = create_time WHERE checked_at IS NULL;
ALTER TABLE signals ALTER COLUMN checked_through SET NOT NULL;
ALTER TABLE signals ALTER COLUMN checked_at SET NOT NULL;

-- The work queue of the outcome tracker: only open signals, least recently examined first.
CREATE INDEX IF NOT EXISTS signals_open_due_idx ON signals (checked_at) WHERE outcome = 'OPEN';
-- The seeds' (symbol, is_active, confidence DESC): is_active is outcome = 'OPEN'.
CREATE INDEX IF NOT EXISTS signals_symbol_open_confidence_idx
    ON signals (symbol, confidence DESC) WHERE outcome = 'OPEN';
-- Calibration reads decided outcomes by time.
CREATE INDEX IF NOT EXISTS signals_decided_time_idx
    ON signals (create_time) WHERE outcome IN ('WIN', 'LOSS');
