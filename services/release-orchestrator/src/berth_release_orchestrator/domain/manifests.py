"""Kubernetes objects for a workload, as plain dicts for server-side apply.

Names for app ``web``: stable Deployment/Service/Ingress ``web``; canary Deployment/Service/
Ingress ``web-canary`` (ingress-nginx canary annotations); blue-green Deployments
``web-blue`` / ``web-green`` behind the active Service ``web`` and the preview Service
``web-preview``. Selectors never change on a Deployment (they are immutable), so each
Deployment carries its track or colour label from the start."""

from __future__ import annotations

import math
from typing import Any, Literal

from berth_schema.release.workload import Probe, WorkloadSpec

APP = "app.kubernetes.io/name"
MANAGED = "app.kubernetes.io/managed-by"
TRACK = "berth.io/track"
COLOR = "berth.io/color"
RELEASE = "berth.io/release"
REVISION = "berth.io/revision"
CONFIG_VERSION = "berth.io/config-version"
NGINX = "nginx.ingress.kubernetes.io/"

Track = Literal["stable", "canary"]
Color = Literal["blue", "green"]
Traffic = Literal["weight", "header", "cookie"]


def canary_name(app: str) -> str:
    return f"{app}-canary"


def color_name(app: str, color: str) -> str:
    return f"{app}-{color}"


def preview_name(app: str) -> str:
    return f"{app}-preview"


def other(color: str) -> Color:
    return "green" if color == "blue" else "blue"


def _meta(name: str, namespace: str, app: str, extra: dict[str, str] | None = None) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "labels": {APP: app, MANAGED: "berth", **(extra or {})}}


def _probe(p: Probe, default_port: int) -> dict[str, Any]:
    out: dict[str, Any] = {
        "initialDelaySeconds": p.initial_delay_seconds,
        "periodSeconds": p.period_seconds,
        "failureThreshold": p.failure_threshold,
    }
    port = p.port or default_port
    if p.kind == "http":
        out["httpGet"] = {"path": p.path, "port": port}
    elif p.kind == "tcp":
        out["tcpSocket"] = {"port": port}
    else:
        out["exec"] = {"command": list(p.command)}
    return out


def deployment(
    *,
    app: str,
    name: str,
    namespace: str,
    spec: WorkloadSpec,
    replicas: int,
    selector: dict[str, str],
    revision: int,
    max_surge: str = "25%",
    max_unavailable: str = "25%",
    progress_deadline_seconds: int = 600,
    pod_annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    pod_labels = {**spec.labels, APP: app, **selector, REVISION: str(revision)}
    container: dict[str, Any] = {
        "name": app,
        "image": spec.image,
        "ports": [{"name": p.name, "containerPort": p.container_port, "protocol": p.protocol} for p in spec.ports],
        "resources": _resources(spec),
    }
    if spec.command is not None:
        container["command"] = list(spec.command)
    if spec.args is not None:
        container["args"] = list(spec.args)
    if spec.env:
        container["env"] = [{"name": k, "value": v} for k, v in sorted(spec.env.items())]
    if spec.config_refs:
        container["envFrom"] = [{"configMapRef": {"name": ref, "optional": True}} for ref in spec.config_refs]
    default_port = spec.ports[0].container_port if spec.ports else 8080
    if spec.readiness_probe is not None:
        container["readinessProbe"] = _probe(spec.readiness_probe, default_port)
    if spec.liveness_probe is not None:
        container["livenessProbe"] = _probe(spec.liveness_probe, default_port)
    if spec.pre_stop_sleep_seconds:
        container["lifecycle"] = {"preStop": {"sleep": {"seconds": spec.pre_stop_sleep_seconds}}}
    pod_spec: dict[str, Any] = {
        "containers": [container],
        "terminationGracePeriodSeconds": spec.termination_grace_seconds,
    }
    if spec.node_selector:
        pod_spec["nodeSelector"] = dict(spec.node_selector)
    if spec.spread_across_nodes:
        pod_spec["affinity"] = {
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 100,
                        "podAffinityTerm": {
                            "topologyKey": "kubernetes.io/hostname",
                            "labelSelector": {"matchLabels": {APP: app, **selector}},
                        },
                    }
                ]
            }
        }
    template_meta: dict[str, Any] = {"labels": pod_labels}
    if pod_annotations:
        template_meta["annotations"] = dict(pod_annotations)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": _meta(name, namespace, app, {**selector, REVISION: str(revision)}),
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {APP: app, **selector}},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": _int_or_str(max_surge), "maxUnavailable": _int_or_str(max_unavailable)},
            },
            "progressDeadlineSeconds": progress_deadline_seconds,
            "revisionHistoryLimit": 10,
            "template": {"metadata": template_meta, "spec": pod_spec},
        },
    }


def _int_or_str(v: str) -> int | str:
    return int(v) if v.isdigit() else v


def _resources(spec: WorkloadSpec) -> dict[str, Any]:
    r = spec.resources
    out: dict[str, Any] = {"requests": {"cpu": r.cpu_request, "memory": r.memory_request}}
    limits = {k: v for k, v in (("cpu", r.cpu_limit), ("memory", r.memory_limit)) if v is not None}
    if limits:
        out["limits"] = limits
    return out


def service(*, app: str, name: str, namespace: str, spec: WorkloadSpec, selector: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _meta(name, namespace, app),
        "spec": {
            "type": "ClusterIP",
            "selector": {APP: app, **selector},
            "ports": [
                {
                    "name": p.name,
                    "port": p.service_port or p.container_port,
                    "targetPort": p.name,
                    "protocol": p.protocol,
                }
                for p in spec.ports
            ],
        },
    }


def ingress(
    *, app: str, name: str, namespace: str, spec: WorkloadSpec, service_name: str, annotations: dict[str, str]
) -> dict[str, Any]:
    assert spec.ingress is not None
    ing = spec.ingress
    port = spec.ports[0]
    body: dict[str, Any] = {
        "ingressClassName": ing.ingress_class,
        "rules": [
            {
                "host": ing.host,
                "http": {
                    "paths": [
                        {
                            "path": ing.path,
                            "pathType": "Prefix",
                            "backend": {"service": {"name": service_name, "port": {"name": port.name}}},
                        }
                    ]
                },
            }
        ],
    }
    if ing.tls_secret:
        body["tls"] = [{"hosts": [ing.host], "secretName": ing.tls_secret}]
    meta = _meta(name, namespace, app)
    meta["annotations"] = {"kubernetes.io/ingress.class": ing.ingress_class, **annotations}
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": meta, "spec": body}


def canary_annotations(
    *, traffic: Traffic, weight: int, header: str, header_value: str | None, cookie: str, enabled: bool = True
) -> dict[str, str]:
    """ingress-nginx canary annotations; ``enabled=False`` keeps the Ingress but routes nothing to it."""
    out = {NGINX + "canary": "true", NGINX + "canary-weight": str(weight if enabled else 0)}
    if enabled and traffic == "header":
        out[NGINX + "canary-by-header"] = header
        if header_value is not None:
            out[NGINX + "canary-by-header-value"] = header_value
    if enabled and traffic == "cookie":
        out[NGINX + "canary-by-cookie"] = cookie
    return out


def canary_replicas(*, total: int, weight: int, fixed: int | None) -> int:
    """Canary pods in proportion to its traffic weight (at least one), or a fixed size."""
    if fixed is not None:
        return fixed
    return max(1, math.ceil(total * weight / 100))
