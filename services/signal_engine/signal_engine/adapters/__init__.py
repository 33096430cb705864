"""Implementations of the ports: gRPC clients of the gateway and the tracker, ids."""
