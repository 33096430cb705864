"""A span exporter wrapper that masks secrets in span and event attributes.

The SDK has no hook to rewrite attributes after a span ends, so the wrapper rebuilds a
ReadableSpan with redacted attributes before handing the batch to the real exporter.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

from observability.redaction import Redactor


class RedactingSpanExporter(SpanExporter):
    def __init__(self, inner: SpanExporter, redactor: Redactor) -> None:
        self._inner = inner
        self._redactor = redactor

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self._inner.export([self._redact(span) for span in spans])

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._inner.force_flush(timeout_millis)

    def _attrs(self, attributes: Any) -> dict[str, Any]:
        return {k: self._redactor.value(k, v) for k, v in (attributes or {}).items()}

    def _redact(self, span: ReadableSpan) -> ReadableSpan:
        events = [Event(e.name, self._attrs(e.attributes), e.timestamp) for e in span.events]
        return ReadableSpan(
            name=span.name,
            context=span.context,
            parent=span.parent,
            resource=span.resource,
            attributes=self._attrs(span.attributes),
            events=events,
            links=span.links,
            kind=span.kind,
            status=span.status,
            start_time=span.start_time,
            end_time=span.end_time,
            instrumentation_scope=span.instrumentation_scope,
        )
