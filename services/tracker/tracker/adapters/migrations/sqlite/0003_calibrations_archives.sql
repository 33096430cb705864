-- Fitted confidence calibrations, one per symbol ('' is the global fit).
CREATE TABLE IF NOT EXISTS calibrations (
    symbol        TEXT    PRIMARY KEY,
    method        TEXT    NOT NULL CHECK (method IN ('ISOTONIC', 'PLATT')),
    points        TEXT    NOT NULL,  -- JSON array of [raw_confidence, probability]
    sample_size   INTEGER NOT NULL,
    held_out_size INTEGER NOT NULL,
    brier_before  REAL    NOT NULL,
    brier_after   REAL    NOT NULL,
    ece_before    REAL    NOT NULL,
    ece_after     REAL    NOT NULL,
    fit_time      INTEGER NOT NULL
);

-- Manifests of archived days; day is "YYYY-MM-DD".
CREATE TABLE IF NOT EXISTS archives (
    day          TEXT    PRIMARY KEY,
    rows         INTEGER NOT NULL,
    bytes        INTEGER NOT NULL,
    sha256       TEXT    NOT NULL,
    location     TEXT    NOT NULL,
    compression  TEXT    NOT NULL,
    csv_location TEXT    NOT NULL DEFAULT '',
    csv_bytes    INTEGER NOT NULL DEFAULT 0,
    archive_time INTEGER NOT NULL,
    pruned       INTEGER NOT NULL DEFAULT 0
);
