"""The addon catalogue (CoreDNS, metrics-server, ingress-nginx, a monitoring agent) and the
chart values each gets from the cluster spec."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from .errors import DomainError
from .spec import ResolvedSpec


@dataclass(frozen=True, slots=True)
class Addon:
    name: str
    chart: str  # directory under berth_cluster_manager/addons/charts
    namespace: str
    description: str


CATALOGUE: dict[str, Addon] = {
    a.name: a
    for a in (
        Addon("coredns", "coredns", "kube-system", "cluster DNS"),
        Addon("metrics-server", "metrics-server", "kube-system", "resource metrics for kubectl top and HPA"),
        Addon("ingress-nginx", "ingress-nginx", "ingress-nginx", "NGINX ingress controller"),
        Addon("monitoring-agent", "monitoring-agent", "berth-monitoring", "node-exporter and kube-state-metrics"),
    )
}
DEFAULT_ADDONS = ("coredns", "metrics-server")


class AddonStatus(BaseModel):
    """One addon's row on the cluster page: installed / failed, with the chart version."""

    name: str
    status: str  # installing | installed | failed | uninstalled
    version: str = ""
    message: str = ""
    updated_at: datetime


def addon(name: str) -> Addon:
    try:
        return CATALOGUE[name]
    except KeyError:
        raise DomainError(f"addon: {name!r} is not one of {', '.join(CATALOGUE)}") from None


def values_for(
    a: Addon, spec: ResolvedSpec, *, cluster: str, overrides: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Chart values derived from the cluster (DNS address, replicas by flavour), then overrides."""
    big = spec.flavour >= 1000
    values: dict[str, Any] = {}
    if a.name == "coredns":
        values = {"clusterIP": spec.dns_ip(), "replicas": 4 if big else 2}
    elif a.name == "metrics-server" or a.name == "ingress-nginx":
        values = {"replicas": 2 if spec.ha else 1}
    elif a.name == "monitoring-agent":
        values = {"cluster": cluster}
    return {**values, **(overrides or {})}
