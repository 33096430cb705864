"""Cross-provider agreement: consensus, dispersion, demotion of a provider that disagrees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import REGISTRY

from market_gateway.adapters.calendar import NyseCalendar
from market_gateway.app.agreement import AgreementTracker, consensus
from market_gateway.bootstrap import bootstrap
from market_gateway.config import Settings
from market_gateway.domain import AgreementSettings, Quote
from service_runtime.clock import FakeClock

from .conftest import IN_SESSION, unit_tunables
from .fakes import FakeQuoteSource

SETTINGS = AgreementSettings(threshold_bps=50, demote_after=2, demotion_seconds=600)


def quote(provider: str, price: float) -> Quote:
    return Quote("AAPL", price, 0.0, 0.0, 0.0, datetime(2026, 11, 17, tzinfo=UTC), provider)


def test_the_consensus_is_the_median_and_the_dispersion_is_in_basis_points() -> None:
    found = consensus("AAPL", {"a": 100.0, "b": 100.2, "c": 101.0})
    assert found is not None and found.price == 100.2
    assert found.dispersion_bps == pytest.approx(1.0 / 100.2 * 10_000)
    assert found.deviations_bps["c"] == pytest.approx(0.8 / 100.2 * 10_000)
    assert found.agrees("a", 50) and not found.agrees("c", 50)
    assert consensus("AAPL", {"a": 100.0}) is None


def test_a_provider_that_keeps_disagreeing_is_demoted_for_a_while() -> None:
    clock = FakeClock(IN_SESSION)
    tracker = AgreementTracker(clock, lambda: SETTINGS)
    demotions = (
        REGISTRY.get_sample_value("argo_market_gateway_provider_demotions_total", {"provider": "c"})
        or 0.0
    )
    answers = {"a": quote("a", 100.0), "b": quote("b", 100.1), "c": quote("c", 103.0)}
    tracker.judge("AAPL", answers)
    assert not tracker.demoted("c")  # one strike
    tracker.judge("AAPL", answers)
    assert tracker.demoted("c") and not tracker.demoted("a")
    assert tracker.demoted_until("c") == clock.now() + timedelta(seconds=600)
    assert (
        REGISTRY.get_sample_value("argo_market_gateway_provider_demotions_total", {"provider": "c"})
        == demotions + 1
    )
    clock.advance(600)
    assert not tracker.demoted("c") and tracker.demoted_until("c") is None


def test_an_agreeing_answer_clears_the_strikes() -> None:
    tracker = AgreementTracker(FakeClock(IN_SESSION), lambda: SETTINGS)
    far = {"a": quote("a", 100.0), "b": quote("b", 100.0), "c": quote("c", 110.0)}
    near = {"a": quote("a", 100.0), "b": quote("b", 100.0), "c": quote("c", 100.1)}
    tracker.judge("AAPL", far)
    tracker.judge("AAPL", near)
    tracker.judge("AAPL", far)
    assert not tracker.demoted("c")


def test_with_two_answers_nobody_is_demoted_but_the_dispersion_is_recorded() -> None:
    tracker = AgreementTracker(FakeClock(IN_SESSION), lambda: SETTINGS)
    before = REGISTRY.get_sample_value("argo_market_gateway_quote_dispersion_bps_count") or 0
    for _ in range(5):
        tracker.judge("AAPL", {"a": quote("a", 100.0), "b": quote("b", 120.0)})
    assert not tracker.demoted("a") and not tracker.demoted("b")
    after = REGISTRY.get_sample_value("argo_market_gateway_quote_dispersion_bps_count")
    assert after == before + 5


def test_the_answer_comes_from_the_first_provider_in_order_that_agrees() -> None:
    tracker = AgreementTracker(FakeClock(IN_SESSION), lambda: SETTINGS)
    answers = {"a": quote("a", 90.0), "b": quote("b", 100.0), "c": quote("c", 100.1)}
    found = tracker.judge("AAPL", answers)
    assert tracker.choose(["a", "b", "c"], answers, found).provider == "b"
    assert tracker.choose(["a", "b", "c"], answers, None).provider == "a"


def test_sampling_is_due_once_per_interval() -> None:
    clock = FakeClock(IN_SESSION)
    tracker = AgreementTracker(clock, lambda: AgreementSettings(sample_interval_seconds=60))
    assert tracker.sample_due() and not tracker.sample_due()
    clock.advance(60)
    assert tracker.sample_due()


@pytest.mark.asyncio
async def test_every_provider_asked_demotes_the_outlier_in_the_quote_order(
    settings: Settings, nyse: NyseCalendar
) -> None:
    clock = FakeClock(IN_SESSION)
    a, b, c = (FakeQuoteSource(clock, {"AAPL": p}, name=n) for n, p in
               (("a", 100.0), ("b", 100.1), ("c", 104.0)))  # fmt: skip
    tunables = unit_tunables(
        optimizations={"single_source": False, "cache": False},
        agreement={"demote_after": 2},
    )
    wiring = await bootstrap(settings, clock=clock, sources=[c, a, b], calendar=nyse,
                             tunables=tunables)  # fmt: skip
    app = wiring.app
    (first,), _ = await app.get_quotes(["AAPL"])
    assert first.provider == "a"  # c is first in order but far from the consensus (100.1)
    await app.get_quotes(["AAPL"])
    assert [p.name for p in app.router.quotes()] == ["a", "b", "c"]  # c demoted
    status = next(s for s in await app.provider_status() if s.name == "c")
    assert status.demoted_until is not None
    assert len(a.quote_calls) == len(b.quote_calls) == len(c.quote_calls) == 2
    await wiring.exit_stack.aclose()


@pytest.mark.asyncio
async def test_a_sampled_fan_out_checks_agreement_once_per_interval(
    settings: Settings, nyse: NyseCalendar
) -> None:
    clock = FakeClock(IN_SESSION)
    polygon, alpaca = (
        FakeQuoteSource(clock, {"AAPL": 100.0}, name=n) for n in ("polygon", "alpaca")
    )
    tunables = unit_tunables(optimizations={"cache": False, "hedging": False})
    wiring = await bootstrap(settings, clock=clock, sources=[polygon, alpaca], calendar=nyse,
                             tunables=tunables)  # fmt: skip
    for _ in range(3):
        (q,), _ = await wiring.app.get_quotes(["AAPL"])
        assert q.provider == "polygon"
    assert (len(polygon.quote_calls), len(alpaca.quote_calls)) == (3, 1)  # sampled once
    clock.advance(60)
    await wiring.app.get_quotes(["AAPL"])
    assert len(alpaca.quote_calls) == 2
    await wiring.exit_stack.aclose()
