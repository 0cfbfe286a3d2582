"""Runtime-level Prometheus metrics (the bus keeps its own per-handler metrics)."""

from __future__ import annotations

from prometheus_client import Gauge

OUTBOX_LAG = Gauge("berth_outbox_lag_seconds", "Age of the oldest event waiting in the outbox", ["service"])
OUTBOX_PENDING = Gauge("berth_outbox_pending", "Records with unpublished events", ["service"])
READY = Gauge("berth_ready", "1 when NATS and the store answer", ["service"])
