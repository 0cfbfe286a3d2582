"""Namespaces in tenant clusters: the form (``berth_schema.cluster.NamespaceSpec``, whose rules
the schema checks) and the manifests that realise it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from berth_schema.cluster import NamespaceSpec
from pydantic import ValidationError

from .errors import FieldError, ValidationFailed

NODE_SELECTOR_ANNOTATION = "scheduler.alpha.kubernetes.io/node-selector"
DESCRIPTION_ANNOTATION = "berth.io/description"
MANAGED_BY = "berth-cluster-manager"
ISOLATION_POLICY = "berth-default-deny"
QUOTA_NAME = "berth-quota"
LIMITS_NAME = "berth-limits"


def parse_namespace(data: Mapping[str, Any]) -> NamespaceSpec:
    """Raw form data -> a valid namespace spec, or ValidationFailed listing every bad field."""
    try:
        return NamespaceSpec.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed([FieldError(".".join(map(str, e["loc"])), e["msg"]) for e in exc.errors()]) from None


def _labels(cluster: str) -> dict[str, str]:
    return {"app.kubernetes.io/managed-by": MANAGED_BY, "berth.io/cluster": cluster}


def namespace_manifests(spec: NamespaceSpec, *, cluster: str) -> list[dict[str, Any]]:
    """The objects applied in the tenant cluster for this namespace (Namespace first)."""
    annotations = {DESCRIPTION_ANNOTATION: spec.description}
    if spec.node_selector:
        annotations[NODE_SELECTOR_ANNOTATION] = ",".join(f"{k}={v}" for k, v in sorted(spec.node_selector.items()))
    out: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {"name": spec.name, "labels": _labels(cluster), "annotations": annotations},
        }
    ]
    meta = {"namespace": spec.name, "labels": _labels(cluster)}
    if spec.quota:
        out.append(
            {
                "apiVersion": "v1",
                "kind": "ResourceQuota",
                "metadata": {"name": QUOTA_NAME, **meta},
                "spec": {"hard": dict(spec.quota)},
            }
        )
    if spec.limits is not None:
        lim = spec.limits
        out.append(
            {
                "apiVersion": "v1",
                "kind": "LimitRange",
                "metadata": {"name": LIMITS_NAME, **meta},
                "spec": {
                    "limits": [
                        {
                            "type": "Container",
                            "defaultRequest": {"cpu": lim.default_request_cpu, "memory": lim.default_request_memory},
                            "default": {"cpu": lim.default_limit_cpu, "memory": lim.default_limit_memory},
                        }
                    ]
                },
            }
        )
    if spec.isolated:
        out.append(isolation_policy(spec.name, cluster=cluster))
    return out


def isolation_policy(namespace: str, *, cluster: str) -> dict[str, Any]:
    """Default-deny ingress from other namespaces; pods in the namespace still reach each other."""
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": ISOLATION_POLICY, "namespace": namespace, "labels": _labels(cluster)},
        "spec": {"podSelector": {}, "policyTypes": ["Ingress"], "ingress": [{"from": [{"podSelector": {}}]}]},
    }
