"""market-gateway: one API over every market-data and AI provider."""
