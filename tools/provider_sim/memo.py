"""A bounded memo of async results: what the market view computes once per minute or day.

Today's running bar and the last completed minute change only when a minute completes, and
the previous day's bar only when the date changes, so keys carry that bucket and cached
answers are exact. Without it a 500-ticker snapshot costs ~1.5 s of synthetic bars.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class Memo:
    def __init__(self, size: int = 16_384) -> None:
        self._size = size
        self._values: OrderedDict[Hashable, Any] = OrderedDict()

    async def get(self, key: Hashable, compute: Callable[[], Awaitable[T]]) -> T:
        if key in self._values:
            self._values.move_to_end(key)
            value: T = self._values[key]
            return value
        value = await compute()
        self._values[key] = value
        if len(self._values) > self._size:
            self._values.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._values)
