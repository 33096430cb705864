"""deadline_scope: the caller's deadline as an absolute instant in a context variable."""

from __future__ import annotations

import pytest

from market_gateway.app.deadline import current_deadline, deadline_scope, detached
from service_runtime.clock import FakeClock

from .conftest import IN_SESSION


def test_the_tighter_deadline_wins_and_none_inherits_the_outer_one() -> None:
    """Lost if it failed: a batch or single flight started inside a request could outlive
    that request's deadline, or a nested scope without one would lift it."""
    clock = FakeClock(IN_SESSION)
    start = clock.monotonic()
    assert current_deadline() is None
    with deadline_scope(clock, 2.0) as outer:
        assert outer == current_deadline() == start + 2.0
        with deadline_scope(clock, 5.0) as looser:
            assert looser == current_deadline() == start + 2.0
        with deadline_scope(clock, None) as unbounded:
            assert unbounded == current_deadline() == start + 2.0
        with deadline_scope(clock, 0.5) as tighter:
            assert tighter == current_deadline() == start + 0.5
        with deadline_scope(clock, -1.0) as passed:
            assert passed == current_deadline() == start
        with detached():
            assert current_deadline() is None
        assert current_deadline() == start + 2.0
    assert current_deadline() is None


def test_the_outer_deadline_is_back_after_an_error() -> None:
    clock = FakeClock(IN_SESSION)
    with deadline_scope(clock, 3.0) as outer:
        with pytest.raises(RuntimeError), deadline_scope(clock, 1.0):
            raise RuntimeError("upstream failed")
        assert current_deadline() == outer
    assert current_deadline() is None
