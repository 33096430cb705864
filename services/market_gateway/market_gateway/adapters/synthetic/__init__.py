"""The built-in deterministic synthetic market (no network, no credentials)."""
