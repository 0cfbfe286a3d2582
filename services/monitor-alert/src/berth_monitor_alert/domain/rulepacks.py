"""Default Prometheus alerting rules for a tenant cluster, rendered per cluster as YAML.

Every expression is scoped to ``cluster="<name>"`` and every alert carries ``cluster`` and
``severity`` labels so routes can match them. ``berth_*`` series are exported by Berth's
own services (registry-sync, dr-switcher, cluster-manager).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import yaml

_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


@dataclass(frozen=True, slots=True)
class RuleSpec:
    alert: str
    expr: str  # "{sel}" is replaced by the cluster selector
    for_: str
    severity: str
    summary: str
    description: str


PACK: tuple[RuleSpec, ...] = (
    RuleSpec(
        "KubeNodeNotReady",
        'kube_node_status_condition{{{sel},condition="Ready",status="true"}} == 0',
        "5m",
        "critical",
        "Node {{ $labels.node }} is NotReady",
        "Node {{ $labels.node }} in cluster {{ $labels.cluster }} has been NotReady for more than 5 minutes.",
    ),
    RuleSpec(
        "KubePodCrashLooping",
        'max_over_time(kube_pod_container_status_waiting_reason{{{sel},reason="CrashLoopBackOff"}}[5m]) >= 1',
        "15m",
        "warning",
        "Pod {{ $labels.namespace }}/{{ $labels.pod }} is crash looping",
        "Container {{ $labels.container }} of pod {{ $labels.namespace }}/{{ $labels.pod }} keeps restarting.",
    ),
    RuleSpec(
        "CertificateExpiringSoon",
        "(berth_certificate_expiry_timestamp_seconds{{{sel}}} - time()) < 14 * 86400",
        "1h",
        "warning",
        "Certificate {{ $labels.certificate }} expires in less than 14 days",
        "Certificate {{ $labels.certificate }} of cluster {{ $labels.cluster }} expires in "
        "{{ $value | humanizeDuration }}.",
    ),
    RuleSpec(
        "CertificateExpiryCritical",
        "(berth_certificate_expiry_timestamp_seconds{{{sel}}} - time()) < 3 * 86400",
        "10m",
        "critical",
        "Certificate {{ $labels.certificate }} expires in less than 3 days",
        "Rotate certificate {{ $labels.certificate }} of cluster {{ $labels.cluster }} now.",
    ),
    RuleSpec(
        "EtcdMemberDown",
        'up{{{sel},job="etcd"}} == 0',
        "3m",
        "critical",
        "etcd member {{ $labels.instance }} is down",
        "etcd member {{ $labels.instance }} of cluster {{ $labels.cluster }} has not been scraped for 3 minutes.",
    ),
    RuleSpec(
        "EtcdNoLeader",
        "etcd_server_has_leader{{{sel}}} == 0",
        "1m",
        "critical",
        "etcd member {{ $labels.instance }} has no leader",
        "etcd member {{ $labels.instance }} of cluster {{ $labels.cluster }} reports no leader.",
    ),
    RuleSpec(
        "EtcdSlowFsync",
        "histogram_quantile(0.99, sum by (instance, le) "
        "(rate(etcd_disk_wal_fsync_duration_seconds_bucket{{{sel}}}[5m]))) > 0.5",
        "10m",
        "warning",
        "etcd WAL fsync is slow on {{ $labels.instance }}",
        "99th percentile WAL fsync is {{ $value }}s; etcd needs faster disks (high IO devices).",
    ),
    RuleSpec(
        "KubeAPIServerDown",
        'absent(up{{{sel},job="apiserver"}} == 1)',
        "5m",
        "critical",
        "The API server of cluster {{ $labels.cluster }} is down",
        "No API server instance of the cluster has been reachable for 5 minutes.",
    ),
    RuleSpec(
        "KubeAPIServerErrors",
        'sum(rate(apiserver_request_total{{{sel},code=~"5.."}}[5m])) '
        "/ sum(rate(apiserver_request_total{{{sel}}}[5m])) > 0.05",
        "10m",
        "warning",
        "The API server answers more than 5% errors",
        "{{ $value | humanizePercentage }} of API requests fail with 5xx.",
    ),
    RuleSpec(
        "RegistrySyncFailing",
        'increase(berth_registry_sync_executions_total{{{sel},result="failed"}}[30m]) > 0',
        "0m",
        "warning",
        "Registry replication {{ $labels.policy }} is failing",
        "Replication policy {{ $labels.policy }} failed {{ $value }} times in 30 minutes.",
    ),
    RuleSpec(
        "DRProbeFailing",
        "berth_dr_probe_up{{{sel}}} == 0",
        "2m",
        "critical",
        "DR probe {{ $labels.probe }} of group {{ $labels.group }} is failing",
        "The health probe {{ $labels.probe }} has failed for 2 minutes; failover may follow.",
    ),
)


def render_rules(cluster: str, *, extra_labels: dict[str, str] | None = None) -> str:
    """The rule file (``groups:``) for one cluster."""
    if not _NAME.match(cluster):
        raise ValueError(f"cluster {cluster!r}: must be a DNS label (lowercase letters, digits, '-')")
    sel = f'cluster="{cluster}"'
    rules: list[dict[str, Any]] = []
    for spec in PACK:
        rule: dict[str, Any] = {
            "alert": spec.alert,
            "expr": spec.expr.format(sel=sel),
            "labels": {"severity": spec.severity, "cluster": cluster, **(extra_labels or {})},
            "annotations": {"summary": spec.summary, "description": spec.description},
        }
        if spec.for_ != "0m":
            rule["for"] = spec.for_
        rules.append(rule)
    doc = {"groups": [{"name": f"berth-{cluster}", "interval": "30s", "rules": rules}]}
    text: str = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=200)
    return text
