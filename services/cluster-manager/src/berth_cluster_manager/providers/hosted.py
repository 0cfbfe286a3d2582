"""The hosted provider (k8s-on-k8s): each tenant control plane runs as workloads in its own
namespace of the host cluster, applied with server-side apply (field manager
``berth-cluster-manager``). The PKI lives in the ``<cluster>-pki`` Secret there."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import yaml
from kubernetes_asyncio.client import ApiClient
from kubernetes_asyncio.client.exceptions import ApiException
from kubernetes_asyncio.config import new_client_from_config_dict

from .. import kube
from ..pki import ClusterPki, PkiParams
from .base import CLUSTER_LABEL, TENANT_LABEL, ClusterRef, ControlPlaneHealth, StepFailed
from .hosted_manifests import (
    API_PORT,
    HostedOptions,
    api_host,
    api_hosts,
    apiserver_objects,
    backup_objects,
    base_objects,
    controller_objects,
    etcd_hosts,
    etcd_objects,
    namespace_for,
)

log = logging.getLogger(__name__)

ApiFactory = Callable[[], Awaitable[ApiClient]]
DEPLOYMENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler")


def _now() -> datetime:
    return datetime.now(UTC)


class HostedProvider:
    name = "hosted"

    def __init__(self, host_api: ApiFactory, *, options: HostedOptions | None = None, ready_timeout: float = 300.0):
        self._host_api = host_api
        self.options = options or HostedOptions()
        self.ready_timeout = ready_timeout

    # --- steps ----------------------------------------------------------------
    async def run_step(self, ref: ClusterRef, step: str, *, version: str) -> str:
        api = await self._host_api()
        try:
            return await self._step(api, ref, step, version)
        except ApiException as exc:
            raise StepFailed(f"host cluster refused {step}: {exc.status} {exc.reason}") from exc
        except TimeoutError as exc:
            raise StepFailed(str(exc)) from exc
        finally:
            await api.close()

    async def _step(self, api: ApiClient, ref: ClusterRef, step: str, version: str) -> str:
        ns, opts = namespace_for(ref), self.options
        if step == "issue-certificates":
            pki = await self._load_pki(api, ref) or self._new_pki(ref)
            await kube.apply_all(api, base_objects(ref, pki))
            return f"CA, serving, client and etcd certificates in Secret {ns}/{ref.name}-pki"
        if step in ("provision-etcd", "upgrade-etcd"):
            await kube.apply_all(api, etcd_objects(ref, version=version, options=opts))
            await kube.apply_all(api, backup_objects(ref, version=version, options=opts))
            await self._wait(api, ref, ["etcd"])
            return f"etcd x{ref.spec.control_plane_replicas} ready; backup CronJob scheduled"
        if step in ("provision-control-plane", "upgrade-kube-apiserver"):
            await kube.apply_all(api, apiserver_objects(ref, version=version, options=opts))
            if step == "upgrade-kube-apiserver":
                await self._wait(api, ref, ["kube-apiserver"])
                return f"kube-apiserver {version} available"
            await kube.apply_all(api, controller_objects(ref, version=version, options=opts))
            return "kube-apiserver, kube-controller-manager and kube-scheduler applied"
        if step == "upgrade-controller-manager-scheduler":
            await kube.apply_all(api, controller_objects(ref, version=version, options=opts))
            await self._wait(api, ref, ["kube-controller-manager", "kube-scheduler"])
            return f"kube-controller-manager and kube-scheduler {version} available"
        if step == "wait-control-plane-ready":
            await self._wait(api, ref, ["etcd", *DEPLOYMENTS])
            return "control-plane Deployments Available"
        if step == "publish-kubeconfig":
            return f"admin kubeconfig in Secret {ns}/{ref.name}-admin-kubeconfig (server https://{api_host(ref)}:{API_PORT})"
        if step == "delete-control-plane":
            if await kube.delete(api, "Namespace", ns):
                async with asyncio.timeout(self.ready_timeout):
                    await kube.wait_gone(api, "Namespace", ns)
            return f"namespace {ns} deleted"
        if step == "delete-certificates-and-data":
            left = await self.leftovers(api, ref)
            if left:
                raise StepFailed(f"objects still labelled {CLUSTER_LABEL}={ref.name}: {', '.join(left)}")
            return "nothing labelled for the cluster remains"
        raise StepFailed(f"the hosted provider has no step {step!r}")

    async def close(self) -> None:
        """Hosted control planes run in the host cluster and outlive the service by design."""

    async def leftovers(self, api: ApiClient, ref: ClusterRef) -> list[str]:
        selector = f"{CLUSTER_LABEL}={ref.name},{TENANT_LABEL}={ref.tenant}"
        found = []
        for kind, info in kube.KINDS.items():
            if info.api_version.startswith("rbac."):
                continue  # only applied inside tenant clusters; cluster-manager has no RBAC rights on the host
            for item in await kube.list_labelled(api, kind, selector):
                meta = item["metadata"]
                found.append(f"{kind} {meta.get('namespace', '')}/{meta['name']}".replace(" /", " "))
        return found

    # --- readiness ------------------------------------------------------------
    async def _wait(self, api: ApiClient, ref: ClusterRef, components: list[str]) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.ready_timeout
        while True:
            health = await self._health(api, ref)
            pending = {c: health.components.get(c, "missing") for c in components}
            pending = {c: s for c, s in pending.items() if s != "Available"}
            if not pending:
                return
            if loop.time() > deadline:
                raise TimeoutError(
                    f"not available after {self.ready_timeout:.0f}s: "
                    + ", ".join(f"{c} ({s})" for c, s in sorted(pending.items()))
                    + await self._why_not_ready(api, ref)
                )
            await asyncio.sleep(1.0)

    async def _why_not_ready(self, api: ApiClient, ref: ClusterRef) -> str:
        """Where each pod that is not Ready sits and why (the scheduler's message if unscheduled)."""
        try:
            pods = await kube.list_labelled(api, "Pod", f"{CLUSTER_LABEL}={ref.name}", namespace_for(ref))
        except Exception as exc:  # the timeout itself is the error; this is only the explanation
            return f"; pods unreadable: {exc}"
        lines = []
        for pod in pods:
            status = pod.get("status") or {}
            conditions = {c.get("type"): c for c in status.get("conditions") or []}
            if (conditions.get("Ready") or {}).get("status") == "True":
                continue
            scheduled = conditions.get("PodScheduled") or {}
            why = scheduled.get("message") if scheduled.get("status") == "False" else ""
            node = (pod.get("spec") or {}).get("nodeName") or "-"
            lines.append(
                f"{pod['metadata']['name']} on {node}: {status.get('phase', '?')}{' (' + why + ')' if why else ''}"
            )
        return ("; not ready: " + "; ".join(sorted(lines))) if lines else ""

    async def health(self, ref: ClusterRef) -> ControlPlaneHealth:
        api = await self._host_api()
        try:
            return await self._health(api, ref)
        finally:
            await api.close()

    async def _health(self, api: ApiClient, ref: ClusterRef) -> ControlPlaneHealth:
        ns = namespace_for(ref)
        components: dict[str, str] = {}
        sts = await kube.get(api, "StatefulSet", f"{ref.name}-etcd", ns)
        components["etcd"] = _statefulset_state(sts)
        for component in DEPLOYMENTS:
            dep = await kube.get(api, "Deployment", f"{ref.name}-{component}", ns)
            components[component] = _deployment_state(dep)
        return ControlPlaneHealth(all(s == "Available" for s in components.values()), components)

    # --- access ---------------------------------------------------------------
    async def admin_kubeconfig(self, ref: ClusterRef) -> dict[str, Any]:
        api = await self._host_api()
        try:
            secret = await kube.get(api, "Secret", f"{ref.name}-admin-kubeconfig", namespace_for(ref))
        finally:
            await api.close()
        if secret is None:
            raise StepFailed(f"cluster {ref.name} has no admin kubeconfig yet")
        doc: dict[str, Any] = yaml.safe_load(base64.b64decode(secret["data"]["kubeconfig"]))
        return doc

    async def tenant_client(self, ref: ClusterRef) -> ApiClient:
        return await new_client_from_config_dict(await self.admin_kubeconfig(ref))

    async def join_server(self, ref: ClusterRef) -> str:
        """Where joining machines reach the API server: the public URL when one is configured."""
        public = self.options.public_url(ref)
        if public:
            return public
        return str((await self.admin_kubeconfig(ref))["clusters"][0]["cluster"]["server"])

    # --- certificates ---------------------------------------------------------
    async def renew_certificates(self, ref: ClusterRef) -> list[str]:
        return await self._change_pki(ref, lambda pki: pki.renew_expiring(now=_now()))

    async def rotate_ca(self, ref: ClusterRef, *, phase: str) -> list[str]:
        if phase == "start":
            return await self._change_pki(ref, lambda pki: pki.start_ca_rotation(now=_now()))

        def complete(pki: ClusterPki) -> list[str]:
            pki.complete_ca_rotation()
            return ["ca", "front-proxy-ca", "etcd-ca"]

        return await self._change_pki(ref, complete)

    async def _change_pki(self, ref: ClusterRef, change: Callable[[ClusterPki], list[str]]) -> list[str]:
        api = await self._host_api()
        try:
            pki = await self._load_pki(api, ref)
            if pki is None:
                raise StepFailed(f"cluster {ref.name} has no PKI Secret")
            changed = change(pki)
            if changed:
                await kube.apply_all(api, base_objects(ref, pki))
                await self._restart(api, ref)
            return changed
        finally:
            await api.close()

    async def _restart(self, api: ApiClient, ref: ClusterRef) -> None:
        """Roll the control plane so every component reads its new certificates."""
        ns = namespace_for(ref)
        patch = {"spec": {"template": {"metadata": {"annotations": {"berth.io/pki-changed-at": _now().isoformat()}}}}}
        await kube.merge_patch(api, "StatefulSet", f"{ref.name}-etcd", ns, patch)
        for component in DEPLOYMENTS:
            await kube.merge_patch(api, "Deployment", f"{ref.name}-{component}", ns, patch)

    def _new_pki(self, ref: ClusterRef) -> ClusterPki:
        params = PkiParams(
            cluster=ref.name,
            service_cidr=ref.spec.service_cidr,
            api_hosts=api_hosts(ref, self.options),
            etcd_hosts=etcd_hosts(ref),
        )
        return ClusterPki.issue(params, now=_now())

    async def _load_pki(self, api: ApiClient, ref: ClusterRef) -> ClusterPki | None:
        secret = await kube.get(api, "Secret", f"{ref.name}-pki", namespace_for(ref))
        if secret is None:
            return None
        return ClusterPki.from_doc(json.loads(base64.b64decode(secret["data"]["pki.json"])))


def _deployment_state(dep: dict[str, Any] | None) -> str:
    if dep is None:
        return "missing"
    spec, status = dep.get("spec", {}), dep.get("status", {})
    want = spec.get("replicas", 1)
    if status.get("observedGeneration", 0) < dep["metadata"].get("generation", 0):
        return "rolling out"
    if status.get("updatedReplicas", 0) < want:
        return f"updating {status.get('updatedReplicas', 0)}/{want}"
    if status.get("availableReplicas", 0) < want or status.get("replicas", 0) > want:
        return f"available {status.get('availableReplicas', 0)}/{want}"
    available = any(c.get("type") == "Available" and c.get("status") == "True" for c in status.get("conditions", []))
    return "Available" if available else "not available"


def _statefulset_state(sts: dict[str, Any] | None) -> str:
    if sts is None:
        return "missing"
    spec, status = sts.get("spec", {}), sts.get("status", {})
    want = spec.get("replicas", 1)
    if status.get("observedGeneration", 0) < sts["metadata"].get("generation", 0):
        return "rolling out"
    if status.get("updateRevision") and status.get("currentRevision") != status.get("updateRevision"):
        return f"updating {status.get('updatedReplicas', 0)}/{want}"
    if status.get("readyReplicas", 0) < want:
        return f"ready {status.get('readyReplicas', 0)}/{want}"
    return "Available"
