"""The cost ledger: price per call, AI tokens once, on spans, metrics and provider status."""

from __future__ import annotations

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client import REGISTRY

from market_gateway.adapters.ai_chat.ledger import CostLedger as AiLedger
from market_gateway.adapters.calendar import NyseCalendar
from market_gateway.app import provider_stats
from market_gateway.app.cost_ledger import CostLedger
from market_gateway.bootstrap import bootstrap
from market_gateway.config import Settings
from market_gateway.domain import TokenUsage
from service_runtime.clock import FakeClock

from .conftest import IN_SESSION, PRICES, unit_tunables
from .fakes import FakeQuoteSource


def total(provider: str) -> float:
    value = REGISTRY.get_sample_value("argo_market_gateway_cost_usd_total", {"provider": provider})
    return value or 0.0


def call_total(provider: str) -> float:
    value = REGISTRY.get_sample_value(
        "argo_market_gateway_call_cost_usd_total", {"provider": provider}
    )
    return value or 0.0


def ai_total(provider: str) -> float:
    value = REGISTRY.get_sample_value(
        "argo_market_gateway_ai_cost_usd_total", {"provider": provider}
    )
    return value or 0.0


def test_calls_are_priced_per_provider_and_spend_is_added_once() -> None:
    prices = {"ledger-poly": 0.002}
    ledger = CostLedger(lambda name: prices.get(name, 0.0))
    before = total("ledger-poly")
    assert ledger.record_calls("ledger-poly", 3) == pytest.approx(0.006)
    ledger.record_calls("ledger-free", 2)
    ledger.record_spend("ledger-ai", 0.01)
    assert ledger.totals("ledger-poly").calls == 3
    assert ledger.totals("ledger-poly").cost_usd == pytest.approx(0.006)
    assert ledger.totals("ledger-free").cost_usd == 0.0
    assert ledger.totals("ledger-ai").calls == 0  # AI calls are counted by the guards
    assert ledger.total_usd() == pytest.approx(0.016)
    assert total("ledger-poly") == pytest.approx(before + 0.006)


def test_ai_spend_reaches_the_total_counter_exactly_once() -> None:
    ledger = CostLedger(lambda _: 0.0)
    ai = AiLedger()
    ai.add_listener(ledger.record_spend)
    before_total, before_ai = total("ledger-xai"), ai_total("ledger-xai")
    ai.record("ledger-xai", TokenUsage(prompt_tokens=100, completion_tokens=20), 0.0125)
    assert ledger.totals("ledger-xai").cost_usd == pytest.approx(0.0125)
    assert total("ledger-xai") - before_total == pytest.approx(0.0125)
    assert ai_total("ledger-xai") - before_ai == pytest.approx(0.0125)  # the AI breakdown
    assert call_total("ledger-xai") == 0.0  # ... not priced per call as well


@pytest.mark.asyncio
async def test_upstream_calls_carry_their_cost_on_spans_metrics_and_status(
    settings: Settings, nyse: NyseCalendar, monkeypatch: pytest.MonkeyPatch
) -> None:
    exporter = InMemorySpanExporter()
    traces = TracerProvider()
    traces.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(provider_stats, "tracer", traces.get_tracer("test"))
    clock = FakeClock(IN_SESSION)
    source = FakeQuoteSource(clock, PRICES, name="polygon")
    tunables = unit_tunables(providers={"polygon": {"price_per_call_usd": 0.002}})
    wiring = await bootstrap(settings, clock=clock, source=source, calendar=nyse,
                             tunables=tunables)  # fmt: skip
    before, before_calls = total("polygon"), call_total("polygon")
    quotes, _ = await wiring.app.get_quotes(["AAPL", "BTC-USD"])  # stocks + crypto: 2 requests
    assert len(quotes) == 2 and len(source.quote_calls) == 1
    (span,) = [s for s in exporter.get_finished_spans() if s.name == "polygon.get_quotes"]
    assert span.attributes is not None
    assert span.attributes["argo.cost_usd"] == pytest.approx(0.004)
    assert total("polygon") - before == pytest.approx(0.004)
    assert call_total("polygon") - before_calls == pytest.approx(0.004)  # the calls' share
    (status,) = [s for s in await wiring.app.provider_status() if s.name == "polygon"]
    assert status.cost_usd_total == pytest.approx(0.004)
    assert wiring.app.performance()["cost_usd_total"] == pytest.approx(0.004)
    await wiring.exit_stack.aclose()
