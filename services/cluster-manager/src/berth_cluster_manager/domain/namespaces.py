"""Namespaces in tenant clusters: the spec (quota, limits, isolation, node affinity), its
validation, and the manifests that realise it."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .errors import FieldError, ValidationFailed
from .limits import SYSTEM_NAMESPACES
from .quantity import parse_quantity
from .spec import DESCRIPTION_MAX, DNS1123_LABEL

NODE_SELECTOR_ANNOTATION = "scheduler.alpha.kubernetes.io/node-selector"
DESCRIPTION_ANNOTATION = "berth.io/description"
MANAGED_BY = "berth-cluster-manager"
ISOLATION_POLICY = "berth-default-deny"
QUOTA_NAME = "berth-quota"
LIMITS_NAME = "berth-limits"

# ResourceQuota keys a namespace quota may set.
QUOTA_KEYS = (
    "requests.cpu",
    "requests.memory",
    "limits.cpu",
    "limits.memory",
    "pods",
    "services",
    "persistentvolumeclaims",
    "requests.storage",
    "configmaps",
    "secrets",
)
_LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")
_LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$")


class ContainerLimits(BaseModel):
    """LimitRange defaults for containers that set none."""

    model_config = ConfigDict(extra="forbid")
    default_request_cpu: str = "100m"
    default_request_memory: str = "128Mi"
    default_limit_cpu: str = "500m"
    default_limit_memory: str = "512Mi"


class NamespaceSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    quota: dict[str, str] = Field(default_factory=dict)
    limits: ContainerLimits | None = None
    isolated: bool = False
    node_selector: dict[str, str] = Field(default_factory=dict)


def validate_quota(quota: dict[str, str], *, prefix: str = "quota") -> list[FieldError]:
    errors: list[FieldError] = []
    for key, value in quota.items():
        if key not in QUOTA_KEYS:
            errors.append(FieldError(f"{prefix}.{key}", f"unknown quota; allowed: {', '.join(QUOTA_KEYS)}"))
            continue
        try:
            parse_quantity(value)
        except ValueError as exc:
            errors.append(FieldError(f"{prefix}.{key}", str(exc)))
    return errors


def validate_namespace(spec: NamespaceSpec) -> list[FieldError]:
    errors: list[FieldError] = []
    if not DNS1123_LABEL.match(spec.name) or len(spec.name) > 63:
        errors.append(FieldError("name", f"{spec.name!r} is not a DNS-1123 label"))
    elif spec.name in SYSTEM_NAMESPACES or spec.name.startswith("kube-"):
        errors.append(FieldError("name", f"{spec.name!r} is reserved for the system"))
    if len(spec.description) > DESCRIPTION_MAX:
        errors.append(FieldError("description", f"at most {DESCRIPTION_MAX} characters"))
    errors += validate_quota(spec.quota)
    if spec.limits is not None:
        for field, value in spec.limits.model_dump().items():
            try:
                parse_quantity(value)
            except ValueError as exc:
                errors.append(FieldError(f"limits.{field}", str(exc)))
        lim = spec.limits
        pairs = (
            ("cpu", lim.default_request_cpu, lim.default_limit_cpu),
            ("memory", lim.default_request_memory, lim.default_limit_memory),
        )
        for what, request, limit in pairs:
            try:
                if parse_quantity(request) > parse_quantity(limit):
                    errors.append(FieldError(f"limits.default_request_{what}", f"{request} exceeds the limit {limit}"))
            except ValueError:
                pass
    for key, value in spec.node_selector.items():
        if not _LABEL_KEY.match(key) or "," in key or "=" in key:
            errors.append(FieldError(f"node_selector.{key}", "not a valid label key"))
        if not _LABEL_VALUE.match(value) or len(value) > 63:
            errors.append(FieldError(f"node_selector.{key}", f"{value!r} is not a valid label value"))
    return errors


def parse_namespace(data: dict[str, Any]) -> NamespaceSpec:
    try:
        spec = NamespaceSpec.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed([FieldError(".".join(map(str, e["loc"])), e["msg"]) for e in exc.errors()]) from None
    errors = validate_namespace(spec)
    if errors:
        raise ValidationFailed(errors)
    return spec


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
