"""Move traffic with ingress-nginx canary weights: server-side apply the canary annotations
on the standby site's Ingress (only those fields, under dr-switcher's field manager)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from berth_schema.dr.spec import IngressSwitch
from kubernetes_asyncio.client import ApiClient
from kubernetes_asyncio.client.exceptions import ApiException

FIELD_MANAGER = "berth-dr-switcher"
CANARY = "nginx.ingress.kubernetes.io/canary"
CANARY_WEIGHT = "nginx.ingress.kubernetes.io/canary-weight"
APPLY = "application/apply-patch+yaml"

ClientFor = Callable[[str], Awaitable[ApiClient]]
"""cluster name -> an API client for it (the caller closes it)."""


class IngressSwitchFailed(Exception):
    pass


def _path(namespace: str, name: str) -> str:
    return f"/apis/networking.k8s.io/v1/namespaces/{namespace}/ingresses/{name}"


async def _call(
    api: ApiClient,
    method: str,
    path: str,
    *,
    body: Any = None,
    query: list[tuple[str, str]] | None = None,
    content_type: str = "application/json",
) -> dict[str, Any]:
    result: dict[str, Any] = await api.call_api(
        path,
        method,
        query_params=query or [],
        header_params={"Accept": "application/json", "Content-Type": content_type},
        body=body,
        response_types_map={200: "object", 201: "object"},
        auth_settings=["BearerToken"],
        _return_http_data_only=True,
    )
    return result


async def set_canary_weight(api: ApiClient, switch: IngressSwitch, ingress: str, weight: int) -> dict[str, str]:
    """Apply canary=true and canary-weight=<weight> on ``ingress``; returns its annotations after."""
    path = _path(switch.namespace, ingress)
    try:
        await _call(api, "GET", path)  # apply would create a bare Ingress; it must exist already
        obj = {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "Ingress",
            "metadata": {
                "name": ingress,
                "namespace": switch.namespace,
                "annotations": {CANARY: "true", CANARY_WEIGHT: str(weight)},
            },
        }
        applied = await _call(
            api, "PATCH", path, body=obj, query=[("fieldManager", FIELD_MANAGER), ("force", "true")], content_type=APPLY
        )
    except ApiException as exc:
        raise IngressSwitchFailed(
            f"Ingress {switch.namespace}/{ingress} in cluster {switch.cluster}: HTTP {exc.status} {exc.reason}"
        ) from None
    annotations: dict[str, str] = applied.get("metadata", {}).get("annotations", {}) or {}
    if annotations.get(CANARY_WEIGHT) != str(weight):
        raise IngressSwitchFailed(
            f"Ingress {switch.namespace}/{ingress} kept canary-weight {annotations.get(CANARY_WEIGHT)}"
        )
    return annotations
