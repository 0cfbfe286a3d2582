"""Thin adapter over kubernetes_asyncio: server-side apply of plain dicts, label-selected
listing and deletion for the few kinds cluster-manager manages."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from kubernetes_asyncio.client import ApiClient
from kubernetes_asyncio.client.exceptions import ApiException

FIELD_MANAGER = "berth-cluster-manager"
APPLY_CONTENT_TYPE = "application/apply-patch+yaml"


@dataclass(frozen=True, slots=True)
class Kind:
    api_version: str
    plural: str
    namespaced: bool

    def base(self) -> str:
        return f"/api/{self.api_version}" if "/" not in self.api_version else f"/apis/{self.api_version}"

    def collection_path(self, namespace: str | None) -> str:
        if self.namespaced and namespace:
            return f"{self.base()}/namespaces/{namespace}/{self.plural}"
        return f"{self.base()}/{self.plural}"

    def path(self, name: str, namespace: str | None) -> str:
        return f"{self.collection_path(namespace)}/{name}"


KINDS: dict[str, Kind] = {
    "Namespace": Kind("v1", "namespaces", False),
    "Node": Kind("v1", "nodes", False),
    "Pod": Kind("v1", "pods", True),
    "Secret": Kind("v1", "secrets", True),
    "ConfigMap": Kind("v1", "configmaps", True),
    "Service": Kind("v1", "services", True),
    "ServiceAccount": Kind("v1", "serviceaccounts", True),
    "PersistentVolumeClaim": Kind("v1", "persistentvolumeclaims", True),
    "ResourceQuota": Kind("v1", "resourcequotas", True),
    "LimitRange": Kind("v1", "limitranges", True),
    "Deployment": Kind("apps/v1", "deployments", True),
    "StatefulSet": Kind("apps/v1", "statefulsets", True),
    "PodDisruptionBudget": Kind("policy/v1", "poddisruptionbudgets", True),
    "CronJob": Kind("batch/v1", "cronjobs", True),
    "NetworkPolicy": Kind("networking.k8s.io/v1", "networkpolicies", True),
    "Role": Kind("rbac.authorization.k8s.io/v1", "roles", True),
    "RoleBinding": Kind("rbac.authorization.k8s.io/v1", "rolebindings", True),
    "ClusterRoleBinding": Kind("rbac.authorization.k8s.io/v1", "clusterrolebindings", False),
    "ClusterRole": Kind("rbac.authorization.k8s.io/v1", "clusterroles", False),
}


def kind_of(obj: dict[str, Any]) -> Kind:
    try:
        return KINDS[obj["kind"]]
    except KeyError:
        raise ValueError(f"kind {obj.get('kind')!r} is not one cluster-manager applies") from None


async def _call(
    api: ApiClient,
    method: str,
    path: str,
    *,
    query: list[tuple[str, str]] | None = None,
    body: Any = None,
    content_type: str = "application/json",
) -> Any:
    result = await api.call_api(
        path,
        method,
        query_params=query or [],
        header_params={"Accept": "application/json", "Content-Type": content_type},
        body=body,
        response_types_map={200: "object", 201: "object", 202: "object"},
        auth_settings=["BearerToken"],
        _return_http_data_only=True,
    )
    return result


async def apply(api: ApiClient, obj: dict[str, Any], *, field_manager: str = FIELD_MANAGER) -> dict[str, Any]:
    """Server-side apply one object (PATCH application/apply-patch+yaml, force)."""
    kind = kind_of(obj)
    meta = obj["metadata"]
    path = kind.path(meta["name"], meta.get("namespace"))
    result: dict[str, Any] = await _call(
        api,
        "PATCH",
        path,
        query=[("fieldManager", field_manager), ("force", "true")],
        body=obj,
        content_type=APPLY_CONTENT_TYPE,
    )
    return result


async def apply_all(api: ApiClient, objs: list[dict[str, Any]]) -> None:
    for obj in objs:
        await apply(api, obj)


async def get(api: ApiClient, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
    try:
        result: dict[str, Any] = await _call(api, "GET", KINDS[kind].path(name, namespace))
        return result
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise


async def list_labelled(api: ApiClient, kind: str, selector: str, namespace: str | None = None) -> list[dict[str, Any]]:
    result = await _call(api, "GET", KINDS[kind].collection_path(namespace), query=[("labelSelector", selector)])
    items: list[dict[str, Any]] = result.get("items", [])
    return items


async def delete(api: ApiClient, kind: str, name: str, namespace: str | None = None) -> bool:
    """Delete with background propagation; False if it was already gone."""
    try:
        await _call(
            api,
            "DELETE",
            KINDS[kind].path(name, namespace),
            body={"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"},
        )
        return True
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise


async def wait_gone(api: ApiClient, kind: str, name: str, namespace: str | None = None) -> None:
    """Poll until the object is gone; bound it with ``asyncio.timeout``."""
    while await get(api, kind, name, namespace) is not None:  # noqa: ASYNC110 - polling a remote API
        await asyncio.sleep(0.5)


async def request_token(api: ApiClient, service_account: str, namespace: str, *, seconds: int) -> dict[str, Any]:
    """A bound token of ``service_account`` from the TokenRequest API (the returned object's
    ``status`` has ``token`` and ``expirationTimestamp``)."""
    path = KINDS["ServiceAccount"].path(service_account, namespace) + "/token"
    body = {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest", "spec": {"expirationSeconds": seconds}}
    result: dict[str, Any] = await _call(api, "POST", path, body=body)
    return result


async def merge_patch(api: ApiClient, kind: str, name: str, namespace: str | None, patch: dict[str, Any]) -> None:
    await _call(
        api,
        "PATCH",
        KINDS[kind].path(name, namespace),
        body=patch,
        content_type="application/strategic-merge-patch+json",
    )
