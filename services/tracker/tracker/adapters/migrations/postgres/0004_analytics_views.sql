-- Analytics as materialized views, refreshed CONCURRENTLY on a schedule (each needs a
-- unique index for that). Days are UTC; confidence buckets are 10 points wide.
CREATE MATERIALIZED VIEW IF NOT EXISTS daily_signal_summary AS
SELECT (create_time AT TIME ZONE 'UTC')::date AS day,
       symbol,
       action,
       COUNT(*) AS signals,
       AVG(confidence) AS avg_confidence,
       COUNT(*) FILTER (WHERE outcome = 'OPEN') AS open,
       COUNT(*) FILTER (WHERE outcome = 'WIN') AS wins,
       COUNT(*) FILTER (WHERE outcome = 'LOSS') AS losses,
       COUNT(*) FILTER (WHERE outcome = 'EXPIRED') AS expired
FROM signals
GROUP BY 1, 2, 3;
CREATE UNIQUE INDEX IF NOT EXISTS daily_signal_summary_key
    ON daily_signal_summary (day, symbol, action);

CREATE MATERIALIZED VIEW IF NOT EXISTS symbol_performance AS
SELECT symbol,
       COUNT(*) AS signals,
       COUNT(*) FILTER (WHERE outcome = 'OPEN') AS open,
       COUNT(*) FILTER (WHERE outcome = 'WIN') AS wins,
       COUNT(*) FILTER (WHERE outcome = 'LOSS') AS losses,
       COUNT(*) FILTER (WHERE outcome = 'EXPIRED') AS expired,
       COALESCE(SUM(pnl_percent) FILTER (WHERE outcome <> 'OPEN'), 0) AS total_pnl_percent,
       COUNT(pnl_percent) FILTER (WHERE outcome <> 'OPEN') AS pnl_samples,
       MAX(create_time) AS last_signal_time
FROM signals
GROUP BY symbol;
CREATE UNIQUE INDEX IF NOT EXISTS symbol_performance_key ON symbol_performance (symbol);

CREATE MATERIALIZED VIEW IF NOT EXISTS confidence_stats AS
SELECT symbol,
       LEAST(FLOOR(confidence / 10), 9)::integer AS bucket,
       COUNT(*) AS signals,
       AVG(confidence) AS avg_confidence,
       COUNT(*) FILTER (WHERE outcome = 'WIN') AS wins,
       COUNT(*) FILTER (WHERE outcome = 'LOSS') AS losses,
       COALESCE(SUM(pnl_percent) FILTER (WHERE outcome <> 'OPEN'), 0) AS total_pnl_percent,
       COUNT(pnl_percent) FILTER (WHERE outcome <> 'OPEN') AS pnl_samples
FROM signals
GROUP BY 1, 2;
CREATE UNIQUE INDEX IF NOT EXISTS confidence_stats_key ON confidence_stats (symbol, bucket);

-- When the views were last refreshed (one row).
CREATE TABLE IF NOT EXISTS analytics_refresh (
    id           boolean     PRIMARY KEY DEFAULT true CHECK (id),
    refresh_time timestamptz NOT NULL
);
