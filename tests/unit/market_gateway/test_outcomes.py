"""The error a caller reads when no provider served a symbol."""

from __future__ import annotations

from market_gateway.app.outcomes import failure_of
from market_gateway.domain import ProviderUnavailable, UnknownSymbol, parse_symbol


def test_each_provider_is_named_once_in_the_reason() -> None:
    """Doubled names ("polygon: polygon: ...") make an operator's grep and alert text wrong."""
    error = failure_of(
        parse_symbol("AAPL"),
        [
            ("polygon", ProviderUnavailable("polygon: request failed (ConnectError)")),
            ("alpaca", ProviderUnavailable("HTTP 503")),
        ],
    )
    assert isinstance(error, ProviderUnavailable)
    assert str(error) == "polygon: request failed (ConnectError); alpaca: HTTP 503"


def test_no_error_from_any_provider_means_unknown_symbol() -> None:
    error = failure_of(parse_symbol("ZZZZ"), [("polygon", None), ("alpaca", None)])
    assert isinstance(error, UnknownSymbol)
