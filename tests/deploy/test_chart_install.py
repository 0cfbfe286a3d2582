"""A real `helm install` of the umbrella chart into the kube_cluster fixture (a real API server,
controller-manager and scheduler; kwok runs the pods): every Deployment becomes Available, and
`helm uninstall` leaves nothing of the release behind."""

from __future__ import annotations

import asyncio
import time
import uuid

from berth_testkit.kube import KubeCluster
from kubernetes_asyncio import client

from .conftest import CHART, KWOK_VALUES, Helm

NAMESPACED = [
    ("apps/v1", "deployments"),
    ("v1", "services"),
    ("v1", "serviceaccounts"),
    ("v1", "configmaps"),
    ("v1", "secrets"),
    ("policy/v1", "poddisruptionbudgets"),
    ("networking.k8s.io/v1", "networkpolicies"),
    ("networking.k8s.io/v1", "ingresses"),
    ("v1", "pods"),
]


async def _left_behind(api: client.ApiClient, namespace: str, release: str) -> list[str]:
    selector = f"app.kubernetes.io/instance={release}"
    left: list[str] = []
    for api_version, plural in NAMESPACED:
        path = f"/api/{api_version}" if api_version == "v1" else f"/apis/{api_version}"
        data = await _get(api, f"{path}/namespaces/{namespace}/{plural}", selector)
        left += [f"{plural}/{i['metadata']['name']}" for i in data["items"]]
    for plural in ("clusterroles", "clusterrolebindings"):
        data = await _get(api, f"/apis/rbac.authorization.k8s.io/v1/{plural}", selector)
        left += [f"{plural}/{i['metadata']['name']}" for i in data["items"]]
    return left


async def _get(api: client.ApiClient, path: str, selector: str) -> dict:  # type: ignore[type-arg]
    resp = await api.call_api(
        path,
        "GET",
        query_params=[("labelSelector", selector)],
        response_types_map={200: "object"},
        auth_settings=["BearerToken"],
        _return_http_data_only=True,
    )
    return resp  # type: ignore[no-any-return]


async def test_install_becomes_available_and_uninstall_leaves_nothing(kube_cluster: KubeCluster, helm: Helm) -> None:
    release, namespace = f"b{uuid.uuid4().hex[:6]}", f"berth-{uuid.uuid4().hex[:6]}"
    kubeconfig = str(kube_cluster.kubeconfig_path)
    await asyncio.to_thread(
        helm,
        "install",
        release,
        str(CHART),
        "-f",
        str(KWOK_VALUES),
        "--namespace",
        namespace,
        "--create-namespace",
        "--kubeconfig",
        kubeconfig,
        "--wait",
        "--timeout",
        "240s",
    )
    async with kube_cluster.client() as api:
        apps = client.AppsV1Api(api)
        deadline = time.monotonic() + 120
        while True:
            deps = (await apps.list_namespaced_deployment(namespace)).items
            unavailable = [
                d.metadata.name
                for d in deps
                if not any(c.type == "Available" and c.status == "True" for c in d.status.conditions or [])
            ]
            if len(deps) == 7 and not unavailable:
                break
            assert time.monotonic() < deadline, f"not Available: {unavailable} of {[d.metadata.name for d in deps]}"
            await asyncio.sleep(1)
        assert all(d.status.ready_replicas == 2 for d in deps)
        pods = (await client.CoreV1Api(api).list_namespaced_pod(namespace)).items
        assert len(pods) == 14 and all(p.status.phase == "Running" for p in pods)
        assert len({p.spec.node_name for p in pods}) > 1, "anti-affinity spreads replicas over kwok nodes"

        await asyncio.to_thread(
            helm,
            "uninstall",
            release,
            "--namespace",
            namespace,
            "--kubeconfig",
            kubeconfig,
            "--wait",
            "--timeout",
            "120s",
        )
        deadline = time.monotonic() + 90
        while left := await _left_behind(api, namespace, release):
            assert time.monotonic() < deadline, f"helm uninstall left {left}"
            await asyncio.sleep(1)
