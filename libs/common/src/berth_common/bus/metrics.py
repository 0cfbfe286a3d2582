"""Prometheus metrics of the bus, on prometheus_client's default registry."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

MESSAGES_HANDLED = Counter(
    "berth_messages_handled",
    "Messages a handler processed and acknowledged.",
    ["service", "handler"],
)
MESSAGES_FAILED = Counter(
    "berth_messages_failed",
    "Handler attempts that did not succeed, by reason (transient, error, poison, rejected, max_deliver).",
    ["service", "handler", "reason"],
)
MESSAGES_DEAD_LETTERED = Counter(
    "berth_messages_dead_lettered",
    "Messages terminated and written to the dead-letter stream.",
    ["service", "handler"],
)
HANDLER_SECONDS = Histogram(
    "berth_handler_seconds",
    "Time a handler took, whatever its outcome.",
    ["service", "handler"],
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
MESSAGES_PUBLISHED = Counter(
    "berth_messages_published",
    "Envelopes published to JetStream and acknowledged by it.",
    ["service"],
)
