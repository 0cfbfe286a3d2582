"""W3C trace context carried in NATS message headers."""

from __future__ import annotations

from collections.abc import Mapping

from opentelemetry import context as otel_context
from opentelemetry import propagate, trace

TRACER = trace.get_tracer("berth_common.bus")
TRACEPARENT = "traceparent"


def inject_headers(headers: dict[str, str], *, fallback_traceparent: str | None = None) -> None:
    """Write the current trace context into ``headers``; else carry ``fallback_traceparent``."""
    propagate.inject(headers)
    if TRACEPARENT not in headers and fallback_traceparent:
        headers[TRACEPARENT] = fallback_traceparent


def extract_context(
    headers: Mapping[str, str] | None, *, fallback_traceparent: str | None = None
) -> otel_context.Context:
    carrier = dict(headers or {})
    if TRACEPARENT not in carrier and fallback_traceparent:
        carrier[TRACEPARENT] = fallback_traceparent
    return propagate.extract(carrier)
