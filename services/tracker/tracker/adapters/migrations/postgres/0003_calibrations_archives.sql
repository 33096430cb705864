-- Fitted confidence calibrations, one per symbol ('' is the global fit).
CREATE TABLE IF NOT EXISTS calibrations (
    symbol        text             PRIMARY KEY,
    method        text             NOT NULL CHECK (method IN ('ISOTONIC', 'PLATT')),
    points        jsonb            NOT NULL,
    sample_size   bigint           NOT NULL,
    held_out_size bigint           NOT NULL,
    brier_before  double precision NOT NULL,
    brier_after   double precision NOT NULL,
    ece_before    double precision NOT NULL,
    ece_after     double precision NOT NULL,
    fit_time      timestamptz      NOT NULL
);

-- Manifests of archived days (the object store holds a copy beside each object).
CREATE TABLE IF NOT EXISTS archives (
    day          date        PRIMARY KEY,
    rows         bigint      NOT NULL,
    bytes        bigint      NOT NULL,
    sha256       text        NOT NULL,
    location     text        NOT NULL,
    compression  text        NOT NULL,
    csv_location text        NOT NULL DEFAULT '',
    csv_bytes    bigint      NOT NULL DEFAULT 0,
    archive_time timestamptz NOT NULL,
    pruned       boolean     NOT NULL DEFAULT false
);
