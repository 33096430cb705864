"""Property: whatever the arrivals, costs and waits, no window admits more than its contract."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from resilience.limiter_store import InMemoryLimiterStore
from resilience.quota import LimitKey, Quota, Window

from .quota_oracle import violations

KEY = LimitKey("p")
BASE = 1_772_460_000.0  # an epoch instant, as the limiter uses

gcra_windows = st.builds(
    lambda rate, per, burst: Window.rate(rate, per, burst),
    st.sampled_from([0.2, 1.0, 2.5, 5.0, 10.0]),
    st.sampled_from([1.0, 60.0]),
    st.integers(min_value=1, max_value=10),
)
fixed_windows = st.builds(
    lambda limit, period, offset: Window.fixed(limit, period, offset),
    st.integers(min_value=1, max_value=30),
    st.sampled_from([1.0, 10.0, 60.0]),
    st.sampled_from([0.0, 0.5, 7.0]),
)
quotas = (
    st.lists(st.one_of(gcra_windows, fixed_windows), min_size=1, max_size=3)
    .filter(lambda ws: len({w.label for w in ws}) == len(ws))
    .map(lambda ws: Quota(tuple(ws)))
)
arrivals = st.lists(
    st.tuples(
        st.floats(min_value=0.0, max_value=2.0),  # gap since the previous arrival
        st.sampled_from([1.0, 1.0, 1.0, 2.0, 0.5]),  # cost
        st.sampled_from([0.0, 0.0, 0.3, 5.0, 120.0]),  # max_wait
        st.booleans(),  # a provider pause of 3 s starts here
    ),
    min_size=1,
    max_size=120,
)


@settings(max_examples=300, deadline=None)
@given(quota=quotas, events=arrivals)
def test_no_window_ever_admits_more_than_its_quota(quota: Quota, events: list) -> None:
    asyncio.run(_exercise(quota, events))


async def _exercise(quota: Quota, events: list) -> None:
    store = InMemoryLimiterStore()
    now = BASE
    admitted: list[tuple[float, float]] = []
    pauses: list[tuple[int, float]] = []
    for gap, cost, max_wait, pause in events:
        now += gap
        if pause and len(pauses) < 3:
            pauses.append((len(admitted), await store.pause(KEY, now + 3.0, now)))
        if cost > quota.max_cost:
            continue
        decision = await store.reserve(KEY, quota.windows, cost, now, max_wait)
        if decision.granted:
            assert decision.wait <= max_wait + 1e-6
            admitted.append((now + decision.wait, cost))
        else:
            assert decision.wait > max_wait
    assert violations(quota.windows, admitted) == []
    # Reservations made after a pause was set never fall inside it (earlier ones are kept).
    for first_after, until in pauses:
        assert [at for at, _ in admitted[first_after:] if at < until - 1e-6] == []


@settings(max_examples=100, deadline=None)
@given(quota=quotas, events=arrivals)
def test_a_rejection_names_the_instant_a_permit_becomes_free(quota: Quota, events: list) -> None:
    asyncio.run(_retry_after_is_exact(quota, events))


async def _retry_after_is_exact(quota: Quota, events: list) -> None:
    store = InMemoryLimiterStore()
    now = BASE
    for gap, cost, _, _ in events:
        now += gap
        if cost > quota.max_cost:
            continue
        decision = await store.reserve(KEY, quota.windows, cost, now, 0.0)
        if not decision.granted:
            again = await store.reserve(KEY, quota.windows, cost, now + decision.wait, 0.0)
            assert again.granted
