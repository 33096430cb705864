"""Helpers every provider adapter shares: the pooled HTTP client and response reading,
typed reading of wire JSON, time conversions, and the reconnecting WebSocket feed."""
