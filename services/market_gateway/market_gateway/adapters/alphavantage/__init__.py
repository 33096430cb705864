"""Alpha Vantage: GLOBAL_QUOTE, intraday/daily series, indicators, crypto (REST only)."""
