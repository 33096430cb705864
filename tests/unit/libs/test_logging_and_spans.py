from __future__ import annotations

import contextvars
import json
import logging
import re

import pytest
import structlog
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from observability import rpc_context
from observability.logging import configure_logging
from observability.redaction import Redactor
from observability.span_redaction import RedactingSpanExporter


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    structlog.reset_defaults()
    structlog.contextvars.clear_contextvars()
    root.handlers[:] = handlers
    root.setLevel(level)


def test_json_lines_carry_service_trace_ids_and_no_secrets(capsys, restore_logging) -> None:
    configure_logging(
        service="tracker", level="info", fmt="json", redactor=Redactor(["sk-live-123456"])
    )
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("work") as span:
        structlog.get_logger("t").info(
            "provider_called", url="https://u:pw@host/x?apikey=sk-live-123456", api_key="k"
        )
        expected_trace = format(span.get_span_context().trace_id, "032x")
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["event"] == "provider_called"
    assert line["service"] == "tracker"
    assert line["trace_id"] == expected_trace and len(line["span_id"]) == 16
    assert "sk-live-123456" not in json.dumps(line) and ":pw@" not in line["url"]
    assert line["api_key"] == "***"


def test_debug_lines_are_filtered_at_info_level(capsys, restore_logging) -> None:
    configure_logging(service="x", level="info", fmt="json")
    log = structlog.get_logger("t")
    log.debug("noise")
    log.info("kept")
    events = [json.loads(x)["event"] for x in capsys.readouterr().err.strip().splitlines()]
    assert events == ["kept"]


def test_span_attributes_and_events_are_redacted_before_export() -> None:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(
        SimpleSpanProcessor(RedactingSpanExporter(memory, Redactor(["secret-key-99"])))
    )
    with provider.get_tracer("t").start_as_current_span("call") as span:
        span.set_attribute("http.url", "https://api.x/q?apiKey=secret-key-99")
        span.add_event("exception", {"exception.message": "bad key secret-key-99"})
    (exported,) = memory.get_finished_spans()
    assert "secret-key-99" not in str(exported.attributes)
    assert "secret-key-99" not in str(exported.events[0].attributes)
    assert exported.name == "call"


def test_lines_written_during_a_call_carry_its_method_and_request_id(
    capsys, restore_logging
) -> None:
    configure_logging(service="x", level="info", fmt="json")
    log = structlog.get_logger("t")
    outer = rpc_context.enter("/argo.Test/Outer")
    log.info("first")
    log.info("second", rpc_method="said by the line")
    inner = rpc_context.enter("/argo.Test/Inner")
    log.info("nested")
    rpc_context.leave(inner)
    log.info("back")
    rpc_context.leave(outer)
    log.info("outside")
    lines = [json.loads(x) for x in capsys.readouterr().err.strip().splitlines()]
    first, second, nested, back, outside = lines
    assert first["rpc_method"] == "/argo.Test/Outer"
    assert re.fullmatch(r"[0-9a-f]{16}", first["request_id"])
    assert second["request_id"] == first["request_id"]  # one id for the whole call
    assert second["rpc_method"] == "said by the line"  # the line's own key wins
    assert nested["rpc_method"] == "/argo.Test/Inner"
    assert nested["request_id"] != first["request_id"]
    assert (back["rpc_method"], back["request_id"]) == (first["rpc_method"], first["request_id"])
    assert "rpc_method" not in outside and "request_id" not in outside


def test_leaving_from_another_context_ends_the_call_there() -> None:
    """A streaming handler's generator may be closed by the loop in a context of its own:
    leaving must not raise there (the call is over) and must not touch the caller's."""
    token = rpc_context.enter("/argo.Test/Stream")
    elsewhere = contextvars.copy_context()
    elsewhere.run(rpc_context.leave, token)
    assert elsewhere.run(rpc_context.current) == {}
    assert rpc_context.current()["rpc_method"] == "/argo.Test/Stream"
    rpc_context.leave(token)
    assert rpc_context.current() == {}
