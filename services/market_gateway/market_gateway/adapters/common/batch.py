"""Quote batches for providers without a multi-symbol call (Alpha Vantage, Yahoo)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence

from market_gateway.domain import BadProviderData, Quote, QuoteBatch, Symbol, UnknownSymbol


async def quotes_one_by_one(
    symbols: Sequence[Symbol], one: Callable[[Symbol], Awaitable[Quote]]
) -> QuoteBatch:
    """Call `one` for every symbol concurrently. Unknown symbols are left out, a symbol
    whose data is wrong goes to `rejected`; any other failure (quota, outage) fails the
    batch with the first such error, as one multi-symbol call would."""
    results = await asyncio.gather(*(one(s) for s in symbols), return_exceptions=True)
    batch = QuoteBatch()
    failure: BaseException | None = None
    for symbol, result in zip(symbols, results, strict=True):
        if isinstance(result, Quote):
            batch[symbol.canonical] = result
        elif isinstance(result, BadProviderData) and not result.retryable:
            batch.rejected[symbol.canonical] = result
        elif isinstance(result, BaseException) and not isinstance(result, UnknownSymbol):
            failure = failure or result
    if failure is not None:
        raise failure
    return batch
