"""gRPC edge of market-gateway: servicer, validation, mapping, error table."""
