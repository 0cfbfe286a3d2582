"""kubernetes_asyncio adapter: server-side apply of plain dicts (field manager
``berth-release-orchestrator``), deletes, the scale subresource, Deployment availability and
rolling restarts. One ``Workloads`` per (cluster, namespace)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from kubernetes_asyncio.client import ApiClient
from kubernetes_asyncio.client.exceptions import ApiException

FIELD_MANAGER = "berth-release-orchestrator"
APPLY = "application/apply-patch+yaml"
MERGE = "application/merge-patch+json"


class KubeError(RuntimeError):
    """The API server refused something; the message says what (never a credential)."""


@dataclass(frozen=True, slots=True)
class Kind:
    api_version: str
    plural: str
    namespaced: bool = True

    def base(self) -> str:
        return f"/api/{self.api_version}" if "/" not in self.api_version else f"/apis/{self.api_version}"

    def path(self, namespace: str | None, name: str | None = None) -> str:
        out = self.base()
        if self.namespaced and namespace:
            out += f"/namespaces/{namespace}"
        out += f"/{self.plural}"
        return f"{out}/{name}" if name else out


KINDS: dict[str, Kind] = {
    "Deployment": Kind("apps/v1", "deployments"),
    "StatefulSet": Kind("apps/v1", "statefulsets"),
    "DaemonSet": Kind("apps/v1", "daemonsets"),
    "Service": Kind("v1", "services"),
    "ConfigMap": Kind("v1", "configmaps"),
    "Secret": Kind("v1", "secrets"),
    "ServiceAccount": Kind("v1", "serviceaccounts"),
    "PersistentVolumeClaim": Kind("v1", "persistentvolumeclaims"),
    "Ingress": Kind("networking.k8s.io/v1", "ingresses"),
    "NetworkPolicy": Kind("networking.k8s.io/v1", "networkpolicies"),
    "HorizontalPodAutoscaler": Kind("autoscaling/v2", "horizontalpodautoscalers"),
    "PodDisruptionBudget": Kind("policy/v1", "poddisruptionbudgets"),
    "Role": Kind("rbac.authorization.k8s.io/v1", "roles"),
    "RoleBinding": Kind("rbac.authorization.k8s.io/v1", "rolebindings"),
    "CronJob": Kind("batch/v1", "cronjobs"),
    "Job": Kind("batch/v1", "jobs"),
}


def kind(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise KubeError(f"kind {name!r} is not one release-orchestrator applies ({', '.join(sorted(KINDS))})") from None


def available(dep: dict[str, Any]) -> tuple[bool, str]:
    """A Deployment is Available when its controller saw the latest spec and every wanted
    replica is updated and available (what ``kubectl rollout status`` waits for)."""
    meta, spec, status = dep.get("metadata", {}), dep.get("spec", {}), dep.get("status", {}) or {}
    want = int(spec.get("replicas", 1))
    if int(status.get("observedGeneration", 0)) < int(meta.get("generation", 1)):
        return False, "the controller has not seen the latest spec"
    for c in status.get("conditions") or []:
        if c.get("type") == "Progressing" and c.get("reason") == "ProgressDeadlineExceeded":
            return False, "progress deadline exceeded"
    updated, avail = int(status.get("updatedReplicas", 0)), int(status.get("availableReplicas", 0))
    total = int(status.get("replicas", 0))
    if updated < want:
        return False, f"{updated}/{want} replicas updated"
    if total > want:
        return False, f"{total - want} old replicas still terminating"
    if avail < want:
        return False, f"{avail}/{want} replicas available"
    return True, "available"


class Workloads:
    def __init__(self, api: ApiClient, *, namespace: str, cluster: str = "") -> None:
        self.api = api
        self.namespace = namespace
        self.cluster = cluster

    async def _call(
        self, method: str, path: str, *, query: list[tuple[str, str]] | None = None, body: Any = None, ctype: str = ""
    ) -> Any:
        try:
            return await self.api.call_api(
                path,
                method,
                query_params=query or [],
                header_params={"Accept": "application/json", "Content-Type": ctype or "application/json"},
                body=body,
                response_types_map={200: "object", 201: "object", 202: "object"},
                auth_settings=["BearerToken"],
                _return_http_data_only=True,
            )
        except ApiException as exc:
            if exc.status == 404 and method != "GET" and method != "DELETE":
                raise KubeError(f"{method} {path}: not found (does namespace {self.namespace} exist?)") from None
            raise

    async def apply(self, obj: dict[str, Any]) -> dict[str, Any]:
        k = kind(obj["kind"])
        body = {**obj, "metadata": {**obj["metadata"], "namespace": self.namespace}}
        try:
            result: dict[str, Any] = await self._call(
                "PATCH",
                k.path(self.namespace, obj["metadata"]["name"]),
                query=[("fieldManager", FIELD_MANAGER), ("force", "true")],
                body=body,
                ctype=APPLY,
            )
        except ApiException as exc:
            raise KubeError(
                f"apply {obj['kind']} {self.namespace}/{obj['metadata']['name']}: {exc.status} {_reason(exc)}"
            ) from None
        return result

    async def get(self, kind_name: str, name: str) -> dict[str, Any] | None:
        try:
            result: dict[str, Any] = await self._call("GET", kind(kind_name).path(self.namespace, name))
            return result
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise KubeError(f"get {kind_name} {self.namespace}/{name}: {exc.status} {_reason(exc)}") from None

    async def delete(self, kind_name: str, name: str) -> bool:
        try:
            await self._call(
                "DELETE",
                kind(kind_name).path(self.namespace, name),
                body={"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": "Background"},
            )
            return True
        except ApiException as exc:
            if exc.status == 404:
                return False
            raise KubeError(f"delete {kind_name} {self.namespace}/{name}: {exc.status} {_reason(exc)}") from None

    async def scale(self, kind_name: str, name: str, replicas: int) -> int | None:
        """Set replicas through the scale subresource; returns the previous count (None if absent)."""
        path = kind(kind_name).path(self.namespace, name) + "/scale"
        try:
            current = await self._call("GET", path)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise KubeError(f"scale {kind_name} {self.namespace}/{name}: {exc.status} {_reason(exc)}") from None
        before = int((current.get("spec") or {}).get("replicas", 0))
        if before != replicas:
            await self._call(
                "PATCH",
                path,
                query=[("fieldManager", FIELD_MANAGER)],
                body={"spec": {"replicas": replicas}},
                ctype=MERGE,
            )
        return before

    async def availability(self, name: str) -> tuple[bool, str]:
        dep = await self.get("Deployment", name)
        if dep is None:
            return False, "not found"
        return available(dep)

    async def wait_available(self, name: str, *, poll: float = 0.5) -> None:
        """Poll until the Deployment is Available; bound it with ``asyncio.timeout``."""
        while not (await self.availability(name))[0]:  # noqa: ASYNC110 - polling a remote API
            await asyncio.sleep(poll)

    async def deployments(self, selector: str) -> list[dict[str, Any]]:
        result = await self._call("GET", kind("Deployment").path(self.namespace), query=[("labelSelector", selector)])
        items: list[dict[str, Any]] = result.get("items", [])
        return items

    async def restart(self, name: str, *, annotation: str, value: str) -> None:
        """A rolling restart (what ``kubectl rollout restart`` does): change a pod-template annotation."""
        patch = {
            "spec": {
                "template": {
                    "metadata": {
                        "annotations": {annotation: value, "kubectl.kubernetes.io/restartedAt": _now()},
                    }
                }
            }
        }
        await self._call(
            "PATCH",
            kind("Deployment").path(self.namespace, name),
            query=[("fieldManager", FIELD_MANAGER + "-restart")],
            body=patch,
            ctype=MERGE,
        )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _reason(exc: ApiException) -> str:
    import json

    try:
        body = json.loads(exc.body or "{}")
        return str(body.get("message") or exc.reason)
    except (ValueError, TypeError):
        return str(exc.reason)
