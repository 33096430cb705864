"""Span events and log lines for policy decisions (hand-written glue over OTel and structlog).

`span_event` adds an event to the *current* span (whatever the caller is tracing) and costs
nothing when no span is recording; `announce` additionally writes a structlog line, for the
rarer decisions an operator wants in the logs (breaker transitions, pauses, L2 outages).
Event names are prefixed `resilience.` in spans; attribute values must be str/int/float/bool.
"""

from __future__ import annotations

from collections.abc import Mapping

import structlog
from opentelemetry import trace
from opentelemetry.util.types import AttributeValue

log = structlog.get_logger("resilience")


def span_event(name: str, attributes: Mapping[str, AttributeValue] | None = None) -> None:
    """Record `resilience.<name>` on the current span when it is recording."""
    span = trace.get_current_span()
    if span.is_recording():
        span.add_event(f"resilience.{name}", attributes=dict(attributes or {}))


def announce(name: str, attributes: Mapping[str, AttributeValue], *, level: str = "info") -> None:
    """A span event plus a structlog line named `name` with the same key-values."""
    span_event(name, attributes)
    if level == "warning":
        log.warning(name, **attributes)
    elif level == "debug":
        log.debug(name, **attributes)
    else:
        log.info(name, **attributes)
