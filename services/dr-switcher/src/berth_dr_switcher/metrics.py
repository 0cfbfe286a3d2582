"""dr-switcher's Prometheus metrics (monitor-alert's rule pack alerts on berth_dr_probe_up)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

PROBE_UP = Gauge("berth_dr_probe_up", "1 when the probe passed last time", ["tenant", "group", "site", "probe"])
SWITCHES = Counter("berth_dr_switches_total", "Switches by kind and result", ["tenant", "group", "kind", "result"])
SWITCH_SECONDS = Histogram(
    "berth_dr_switch_seconds", "Time to move traffic and verify it", buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30)
)
ACTIVE_STANDBY = Gauge("berth_dr_active_standby", "1 while traffic is on the standby site", ["tenant", "group"])
