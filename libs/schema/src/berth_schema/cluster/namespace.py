"""The namespace form (what ``create-namespace`` carries as ``namespace``) and its rules:
quota, container defaults, network isolation and node affinity. The tenant's namespace limit
depends on the running service; cluster-manager checks it in its handler."""

from __future__ import annotations

import re

from pydantic import Field, model_validator

from .quantity import parse_quantity
from .rules import Problem, problem, refuse
from .spec import DESCRIPTION_MAX, DNS1123_LABEL, Form

NAME_MAX = 63
# kube-system, kube-public, default (kube-node-lease is hidden, as the console hides it)
SYSTEM_NAMESPACES = ("default", "kube-public", "kube-system")
# where cluster-manager keeps one ServiceAccount per person holding a kubeconfig of the cluster
ACCESS_NAMESPACE = "berth-access"

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


class ContainerLimits(Form):
    """LimitRange defaults for containers that set none (Kubernetes quantities)."""

    default_request_cpu: str = "100m"
    default_request_memory: str = "128Mi"
    default_limit_cpu: str = "500m"
    default_limit_memory: str = "512Mi"


class NamespaceSpec(Form):
    """Create a namespace in a tenant cluster."""

    name: str = Field(
        description="DNS-1123 label; not default, kube-public, kube-system or kube-*",
        json_schema_extra={"pattern": DNS1123_LABEL.pattern, "maxLength": NAME_MAX},
    )
    description: str = Field(default="", json_schema_extra={"maxLength": DESCRIPTION_MAX})
    quota: dict[str, str] = Field(
        default_factory=dict,
        description=f"ResourceQuota hard limits, e.g. requests.cpu: '4'; keys: {', '.join(QUOTA_KEYS)}",
    )
    limits: ContainerLimits | None = Field(default=None, description="container defaults (LimitRange)")
    isolated: bool = Field(default=False, description="network isolation: other namespaces cannot reach its pods")
    node_selector: dict[str, str] = Field(
        default_factory=dict, description="node affinity: its pods run only on nodes with these labels"
    )

    @model_validator(mode="after")
    def _rules(self) -> NamespaceSpec:
        problems = namespace_problems(self)
        if problems:
            raise refuse(type(self).__name__, problems, self)
        return self


def quota_problems(quota: dict[str, str], *, field: str = "quota") -> list[Problem]:
    out: list[Problem] = []
    for key, value in quota.items():
        if key not in QUOTA_KEYS:
            out.append(problem(field, f"unknown quota; allowed: {', '.join(QUOTA_KEYS)}", key))
            continue
        try:
            parse_quantity(value)
        except ValueError as exc:
            out.append(problem(field, str(exc), key))
    return out


def _limits_problems(lim: ContainerLimits) -> list[Problem]:
    out: list[Problem] = []
    for name, value in lim.model_dump().items():
        try:
            parse_quantity(value)
        except ValueError as exc:
            out.append(problem("limits", str(exc), name))
    pairs = (
        ("cpu", lim.default_request_cpu, lim.default_limit_cpu),
        ("memory", lim.default_request_memory, lim.default_limit_memory),
    )
    for what, request, limit in pairs:
        try:
            if parse_quantity(request) > parse_quantity(limit):
                out.append(problem("limits", f"{request} exceeds the limit {limit}", f"default_request_{what}"))
        except ValueError:
            pass
    return out


def namespace_problems(spec: NamespaceSpec) -> list[Problem]:
    """Every rule ``spec`` breaks, each naming its field; empty when the form is valid."""
    out: list[Problem] = []
    if not DNS1123_LABEL.match(spec.name) or len(spec.name) > NAME_MAX:
        out.append(problem("name", f"{spec.name!r} is not a DNS-1123 label"))
    elif spec.name in SYSTEM_NAMESPACES or spec.name.startswith("kube-"):
        out.append(problem("name", f"{spec.name!r} is reserved for the system"))
    elif spec.name == ACCESS_NAMESPACE:
        out.append(problem("name", f"{spec.name!r} is reserved for the people's access accounts"))
    if len(spec.description) > DESCRIPTION_MAX:
        out.append(problem("description", f"at most {DESCRIPTION_MAX} characters"))
    out += quota_problems(spec.quota)
    if spec.limits is not None:
        out += _limits_problems(spec.limits)
    for key, value in spec.node_selector.items():
        if not _LABEL_KEY.match(key) or "," in key or "=" in key:
            out.append(problem("node_selector", "not a valid label key", key))
        if not _LABEL_VALUE.match(value) or len(value) > 63:
            out.append(problem("node_selector", f"{value!r} is not a valid label value", key))
    return out
