"""Shared helpers for node-manager tests on the real kube_cluster (apiserver, controllers, scheduler, kwok)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest_asyncio
from berth_node_manager.operations import ClusterOps
from berth_schema.node.labels import CLUSTER_LABEL
from berth_testkit.kube import KubeCluster
from kubernetes_asyncio import client as k8s
from kubernetes_asyncio.client import ApiClient


@pytest_asyncio.fixture(loop_scope="session")
async def api(kube_cluster: KubeCluster) -> AsyncIterator[ApiClient]:
    client = await kube_cluster.api_client()
    yield client
    await client.close()


@pytest_asyncio.fixture(loop_scope="session")
async def ops(api: ApiClient) -> AsyncIterator[ClusterOps]:
    """ClusterOps for a cluster name unique to the test; its nodes and namespace are removed after."""
    cluster = f"nm{uuid.uuid4().hex[:6]}"
    ops = ClusterOps(api, cluster=cluster, node_cidr="10.77.0.0/16")
    core = k8s.CoreV1Api(api)
    await core.create_namespace({"metadata": {"name": cluster}})
    yield ops
    await core.delete_namespace(cluster)
    await core.delete_collection_node(label_selector=f"{CLUSTER_LABEL}={cluster}")


async def eventually(check: Callable[[], Awaitable[Any]], *, within: float = 30.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + within
    last: Any = None
    while time.monotonic() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what} not reached within {within:g}s (last: {last!r})")


def deployment(name: str, *, replicas: int, pool: str, cpu: str = "100m", memory: str = "64Mi") -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "nodeSelector": {"berth.io/pool": pool},
                    "terminationGracePeriodSeconds": 0,
                    "containers": [
                        {
                            "name": "app",
                            "image": "registry.invalid/app:1",
                            "resources": {"requests": {"cpu": cpu, "memory": memory}},
                        }
                    ],
                },
            },
        },
    }


async def pods_of(api: ApiClient, namespace: str, app: str) -> list[k8s.V1Pod]:
    pods = await k8s.CoreV1Api(api).list_namespaced_pod(namespace, label_selector=f"app={app}")
    return [p for p in pods.items if p.metadata.deletion_timestamp is None]


async def running_on(api: ApiClient, namespace: str, app: str) -> dict[str, str]:
    """pod name -> node for the app's Running pods."""
    return {
        p.metadata.name: p.spec.node_name for p in await pods_of(api, namespace, app) if p.status.phase == "Running"
    }
