"""Alpaca Market Data v2 (stocks) and v1beta3 (crypto): REST and the WebSocket feed."""
