"""The Kubernetes control plane is real: controllers, scheduler and kwok run Deployments,
and the API server enforces PodDisruptionBudgets on eviction."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from berth_testkit.kube import KubeApi, KubeCluster
from kubernetes_asyncio import client as k8s
from kubernetes_asyncio.client.exceptions import ApiException

pytestmark = pytest.mark.slow


async def _until(
    check: Callable[[], Awaitable[Any]], *, within: float, what: str, cluster: KubeCluster | None = None
) -> Any:
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            logs = cluster.log_tails() if cluster else ""
            raise AssertionError(f"timed out after {within:.0f}s waiting for {what}\n{logs}")
        await asyncio.sleep(0.3)


def _deployment(name: str, replicas: int) -> Any:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {
                            "name": "web",
                            "image": "registry.local/web:1.0",
                            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                        }
                    ]
                },
            },
        },
    }


async def _namespace(api: k8s.ApiClient) -> str:
    name = f"t-{uuid.uuid4().hex[:8]}"
    body: Any = {"metadata": {"name": name}}
    await k8s.CoreV1Api(api).create_namespace(body)
    return name


async def test_api_server_reports_its_version_and_enforces_rbac(kube_api: KubeApi) -> None:
    async with kube_api.client() as api:
        info = await k8s.VersionApi(api).get_code()
        assert info.git_version.startswith("v1.")
        access: Any = {"spec": {"resourceAttributes": {"verb": "delete", "resource": "nodes"}}}
        review = await k8s.AuthorizationV1Api(api).create_self_subject_access_review(access)
        assert review.status.allowed is True
        ns = await _namespace(api)
        cm: Any = {"metadata": {"name": "c"}, "data": {"k": "v"}}
        await k8s.CoreV1Api(api).create_namespaced_config_map(ns, cm)
        got = await k8s.CoreV1Api(api).read_namespaced_config_map("c", ns)
        assert got.data == {"k": "v"}
    # an unknown service account token gets no access: RBAC/authn are on
    anon = k8s.Configuration(host=kube_api.server)
    anon.ssl_ca_cert = str(kube_api.pki_dir / "ca.crt")
    async with k8s.ApiClient(anon) as api:
        with pytest.raises(ApiException) as err:
            await k8s.CoreV1Api(api).list_namespace()
        assert err.value.status in (401, 403)


async def test_deployment_becomes_available_with_pods_running_on_kwok_nodes(kube_cluster: KubeCluster) -> None:
    async with kube_cluster.client() as api:
        core, apps = k8s.CoreV1Api(api), k8s.AppsV1Api(api)
        ns = await _namespace(api)
        await apps.create_namespaced_deployment(ns, _deployment("web", 3))

        async def available() -> bool:
            d = await apps.read_namespaced_deployment("web", ns)
            return bool(d.status.available_replicas == 3)

        await _until(available, within=90, what="Deployment web Available", cluster=kube_cluster)
        rs = await apps.list_namespaced_replica_set(ns, label_selector="app=web")
        assert len(rs.items) == 1
        pods = (await core.list_namespaced_pod(ns, label_selector="app=web")).items
        assert len(pods) == 3
        assert all(p.status.phase == "Running" for p in pods)
        nodes = {n.metadata.name: n for n in (await core.list_node()).items}
        for pod in pods:
            node = nodes[pod.spec.node_name]
            assert node.metadata.annotations.get("kwok.x-k8s.io/node") == "fake"


async def test_eviction_that_breaks_a_disruption_budget_is_refused(kube_cluster: KubeCluster) -> None:
    async with kube_cluster.client() as api:
        core, apps, policy = k8s.CoreV1Api(api), k8s.AppsV1Api(api), k8s.PolicyV1Api(api)
        ns = await _namespace(api)
        await apps.create_namespaced_deployment(ns, _deployment("db", 2))
        pdb_body: Any = {
            "metadata": {"name": "db"},
            "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "db"}}},
        }
        await policy.create_namespaced_pod_disruption_budget(ns, pdb_body)

        async def budget(allowed: int) -> Callable[[], Awaitable[bool]]:
            async def check() -> bool:
                pdb = await policy.read_namespaced_pod_disruption_budget("db", ns)
                s = pdb.status
                return bool(
                    s
                    and s.observed_generation == pdb.metadata.generation
                    and s.current_healthy == 2
                    and s.disruptions_allowed == allowed
                )

            return check

        await _until(await budget(0), within=90, what="PDB db observed with 2 healthy pods", cluster=kube_cluster)
        pod = (await core.list_namespaced_pod(ns, label_selector="app=db")).items[0].metadata.name
        eviction: Any = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": pod, "namespace": ns}}
        with pytest.raises(ApiException) as err:
            await core.create_namespaced_pod_eviction(pod, ns, eviction)
        assert err.value.status == 429
        assert "disruption budget" in str(err.value.body)
        assert (await core.read_namespaced_pod(pod, ns)).metadata.deletion_timestamp is None

        # the same eviction goes through once the budget allows one disruption
        await policy.patch_namespaced_pod_disruption_budget("db", ns, {"spec": {"minAvailable": 1}})
        await _until(await budget(1), within=60, what="PDB db allowing 1 disruption", cluster=kube_cluster)
        await core.create_namespaced_pod_eviction(pod, ns, eviction)
