"""signal-engine: turns market data into trading signals (argo.signals.v1)."""
