"""OpenTelemetry set-up and W3C trace-context propagation through header mappings."""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping

from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

_configured = False


def setup_tracing(*, service: str, exporter: str = "none") -> None:
    """Install a tracer provider once per process. ``exporter``: none | console | otlp."""
    global _configured
    if _configured:
        return
    provider = TracerProvider(resource=Resource.create({"service.name": f"berth-{service}"}))
    span_exporter: SpanExporter | None = None
    if exporter == "console":
        span_exporter = ConsoleSpanExporter()
    elif exporter == "otlp":
        try:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
                OTLPSpanExporter,
            )
        except ImportError as exc:  # pragma: no cover - optional dependency
            raise RuntimeError("BERTH_OTEL_EXPORTER=otlp needs opentelemetry-exporter-otlp-proto-http") from exc
        span_exporter = OTLPSpanExporter()
    if span_exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(span_exporter))
    trace.set_tracer_provider(provider)
    _configured = True


def inject(headers: MutableMapping[str, str]) -> MutableMapping[str, str]:
    propagate.inject(headers)
    return headers


def extract(headers: Mapping[str, str] | None) -> context.Context:
    return propagate.extract(dict(headers or {}))


def current_traceparent() -> str | None:
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier.get("traceparent")
