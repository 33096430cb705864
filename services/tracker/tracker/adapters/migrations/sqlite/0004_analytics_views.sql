-- The analytics of the PostgreSQL materialized views as plain views: SQLite computes
-- them on each read (one process, small data). Same names and columns; day is text.
CREATE VIEW IF NOT EXISTS daily_signal_summary AS
SELECT date(create_time / 1000000, 'unixepoch') AS day,
       symbol,
       action,
       COUNT(*) AS signals,
       AVG(confidence) AS avg_confidence,
       SUM(outcome = 'OPEN') AS open,
       SUM(outcome = 'WIN') AS wins,
       SUM(outcome = 'LOSS') AS losses,
       SUM(outcome = 'EXPIRED') AS expired
FROM signals
GROUP BY 1, 2, 3;

CREATE VIEW IF NOT EXISTS symbol_performance AS
SELECT symbol,
       COUNT(*) AS signals,
       SUM(outcome = 'OPEN') AS open,
       SUM(outcome = 'WIN') AS wins,
       SUM(outcome = 'LOSS') AS losses,
       SUM(outcome = 'EXPIRED') AS expired,
       COALESCE(SUM(CASE WHEN outcome <> 'OPEN' THEN pnl_percent END), 0) AS total_pnl_percent,
       COUNT(CASE WHEN outcome <> 'OPEN' THEN pnl_percent END) AS pnl_samples,
       MAX(create_time) AS last_signal_time
FROM signals
GROUP BY symbol;

CREATE VIEW IF NOT EXISTS confidence_stats AS
SELECT symbol,
       MIN(CAST(confidence / 10 AS INTEGER), 9) AS bucket,
       COUNT(*) AS signals,
       AVG(confidence) AS avg_confidence,
       SUM(outcome = 'WIN') AS wins,
       SUM(outcome = 'LOSS') AS losses,
       COALESCE(SUM(CASE WHEN outcome <> 'OPEN' THEN pnl_percent END), 0) AS total_pnl_percent,
       COUNT(CASE WHEN outcome <> 'OPEN' THEN pnl_percent END) AS pnl_samples
FROM signals
GROUP BY 1, 2;
