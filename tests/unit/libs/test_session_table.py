"""service_runtime.session_table: the XNYS table from a child process equals the one built
here, and a malformed table from the child is refused."""

from __future__ import annotations

import pytest

from service_runtime import session_table


@pytest.mark.asyncio
async def test_the_child_process_table_equals_the_in_process_one() -> None:
    isolated = await session_table.load_isolated(2025, 2027)
    assert isolated == session_table.build_in_process(2025, 2027)
    assert len(isolated[0]) > 700  # three years of sessions


@pytest.mark.parametrize(
    "raw",
    [
        b'{"opens": [1, 2], "closes": [3]}',
        b'{"opens": [2, 1], "closes": [3, 4]}',
        b'{"opens": [1.5], "closes": [3]}',
        b'{"closes": [3]}',
    ],
)
def test_a_malformed_table_is_refused(raw: bytes) -> None:
    with pytest.raises(ValueError):
        session_table.parse_table(raw)
