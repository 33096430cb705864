"""The gRPC edge of the signal engine (argo.signals.v1.SignalEngine)."""
