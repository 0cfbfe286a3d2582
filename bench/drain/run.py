"""Drain a node holding 100 pods with node-manager's Eviction-API drain and with `kubectl drain`, on the
same real control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok) in the same run,
and print the seconds of each and their ratio.

    uv run python bench/drain/run.py [--pods 100] [--rounds 3]

Each round: a Deployment's pods all run on node A (node B cordoned); B is uncordoned and A drained,
so every pod is evicted, deleted and rescheduled on B. The same round is then run with kubectl.
A drain counts as done when the drained node holds none of the Deployment's pods (both tools wait
for that themselves)."""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from berth_node_manager.domain.drain import DrainOptions
from berth_node_manager.kube.drain import drain_node
from berth_node_manager.kube.nodes import KubeNodes
from berth_testkit.kube import KubeApi, KubeCluster
from berth_testkit.parts import binary
from kubernetes_asyncio import client as k8s
from kubernetes_asyncio.client import ApiClient

NS = "bench"
APP = "load"


def deployment(replicas: int) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": APP},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": APP}},
            "template": {
                "metadata": {"labels": {"app": APP}},
                "spec": {
                    "nodeSelector": {"bench": "yes"},
                    "terminationGracePeriodSeconds": 0,
                    "containers": [
                        {
                            "name": "c",
                            "image": "registry.invalid/load:1",
                            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}},
                        }
                    ],
                },
            },
        },
    }


async def running_on(core: k8s.CoreV1Api, node: str) -> int:
    pods = await core.list_namespaced_pod(NS, label_selector=f"app={APP}", field_selector=f"spec.nodeName={node}")
    return sum(1 for p in pods.items if p.status.phase == "Running" and p.metadata.deletion_timestamp is None)


async def settle(core: k8s.CoreV1Api, node: str, want: int, *, within: float = 300) -> None:
    deadline = time.monotonic() + within
    while await running_on(core, node) != want:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{want} pods not Running on {node} within {within}s")
        await asyncio.sleep(0.25)


async def drain_with_berth(api: ApiClient, node: str) -> float:
    began = time.perf_counter()
    report = await drain_node(api, node, DrainOptions(timeout_seconds=300))
    seconds = time.perf_counter() - began
    if report.outcome != "drained":
        raise RuntimeError(report.summary())
    return seconds


async def drain_with_kubectl(kubeconfig: Path, node: str) -> float:
    cmd = [
        binary("kubectl"),
        f"--kubeconfig={kubeconfig}",
        "drain",
        node,
        "--ignore-daemonsets",
        "--delete-emptydir-data",
        "--timeout=300s",
    ]
    began = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(*cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, err = await proc.communicate()
    seconds = time.perf_counter() - began
    if proc.returncode != 0:
        raise RuntimeError(f"kubectl drain failed: {err.decode()[-500:]}")
    throttled = err.decode().count("client-side throttling")
    if throttled:
        print(f"  (kubectl reported client-side throttling {throttled} time(s))", flush=True)
    return seconds


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pods", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="berth-bench-drain-"))
    kube = KubeApi(work / "api").start()
    cluster = KubeCluster(kube, work / "cluster").start()
    try:
        a, b = "bench-a", "bench-b"
        await asyncio.gather(*(cluster.create_node(n, pods="250", labels={"bench": "yes"}) for n in (a, b)))
        api = await cluster.api_client()
        core, nodes = k8s.CoreV1Api(api), KubeNodes(api)
        namespace: Any = {"metadata": {"name": NS}}
        await core.create_namespace(namespace)
        await nodes.set_unschedulable(b, True)
        workload: Any = deployment(args.pods)
        await k8s.AppsV1Api(api).create_namespaced_deployment(NS, workload)
        await settle(core, a, args.pods)
        times: dict[str, list[float]] = {"berth": [], "kubectl": []}
        source, target = a, b
        for round_no in range(1, args.rounds + 1):
            for tool in ("berth", "kubectl"):
                await nodes.set_unschedulable(target, False)
                if tool == "berth":
                    seconds = await drain_with_berth(api, source)
                else:
                    seconds = await drain_with_kubectl(cluster.kubeconfig_path, source)
                times[tool].append(seconds)
                print(
                    f"round {round_no}: {tool:7s} drained {args.pods} pods from {source} in {seconds:6.2f}s", flush=True
                )
                await settle(core, target, args.pods)
                source, target = target, source
        await api.close()
        berth, kubectl = statistics.median(times["berth"]), statistics.median(times["kubectl"])
        print(f"\nmedian over {args.rounds} rounds, {args.pods} pods per drain:")
        print(f"  node-manager drain (Eviction API) : {berth:6.2f}s")
        print(f"  kubectl drain                     : {kubectl:6.2f}s")
        print(f"  ratio node-manager / kubectl      : {berth / kubectl:6.2f}")
        return 0
    finally:
        cluster.stop()
        kube.stop()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
