"""Polygon.io / Massive: REST (snapshots, aggregates, last trade/NBBO) and the WebSocket feed."""
