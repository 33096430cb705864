"""Adapters: implementations of the ports (calendar, providers)."""
