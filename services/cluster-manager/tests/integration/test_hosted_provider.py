"""A hosted tenant control plane on a real API server with controllers and kwok nodes."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from berth_cluster_manager import kube
from berth_cluster_manager.domain import Cluster, Phase, parse_spec
from berth_cluster_manager.providers.base import COMPONENT_LABEL as COMPONENT
from berth_cluster_manager.providers.base import ClusterRef
from berth_cluster_manager.providers.hosted import HostedProvider
from berth_cluster_manager.providers.hosted_manifests import namespace_for
from berth_testkit.kube import KubeCluster


async def _drive(cluster: Cluster, provider: HostedProvider, ref: ClusterRef, version: str) -> list[str]:
    ran = []
    while (step := cluster.current_step) is not None:
        cluster.step_started(step, at=datetime.now(UTC))
        if step == "upgrade-node-pools":
            note = "asked node-manager"
        else:
            note = await provider.run_step(ref, step, version=version)
        cluster.step_succeeded(step, at=datetime.now(UTC), message=note)
        ran.append(step)
    return ran


async def test_hosted_cluster_runs_upgrades_in_order_and_deletes_clean(kube_cluster: KubeCluster) -> None:
    provider = HostedProvider(kube_cluster.api_client, ready_timeout=120)
    spec = parse_spec({"name": "hc1", "version": "v1.35.2", "ha": True, "multi_az": True, "flavour": 200})
    ref = ClusterRef(tenant="t1", name="hc1", spec=spec)
    cluster = Cluster.request(tenant="t1", spec=spec, at=datetime.now(UTC))
    try:
        await _drive(cluster, provider, ref, spec.version)
        assert cluster.phase == Phase.RUNNING
        health = await provider.health(ref)
        assert health.healthy, health
        ns = namespace_for(ref)
        async with kube_cluster.client() as api:
            for component in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
                dep = await kube.get(api, "Deployment", f"hc1-{component}", ns)
                assert dep is not None
                assert dep["status"]["availableReplicas"] == dep["spec"]["replicas"]
            pods = await kube.list_labelled(api, "Pod", "berth.io/cluster=hc1", ns)
            assert len(pods) == 3 + 3 + 2 + 2  # etcd, apiserver, controller-manager, scheduler
            etcd_nodes = {p["spec"]["nodeName"] for p in pods if p["metadata"]["labels"][COMPONENT] == "etcd"}
            assert len(etcd_nodes) == 3  # one per zone (multi-AZ anti-affinity)
            sts = await kube.get(api, "StatefulSet", "hc1-etcd", ns)
            assert sts is not None and sts["status"]["readyReplicas"] == 3
            apiserver = await kube.get(api, "Deployment", "hc1-kube-apiserver", ns)
            assert apiserver is not None
            assert apiserver["metadata"]["managedFields"][0]["manager"] == "berth-cluster-manager"
            assert await kube.get(api, "CronJob", "hc1-etcd-backup", ns) is not None
            assert await kube.get(api, "Secret", "hc1-admin-kubeconfig", ns) is not None
        kubeconfig = await provider.admin_kubeconfig(ref)
        assert kubeconfig["clusters"][0]["cluster"]["server"] == f"https://hc1-apiserver.{ns}.svc:6443"

        cluster.start_upgrade("v1.36.3", at=datetime.now(UTC))
        ran = await _drive(cluster, provider, ref, "v1.36.3")
        assert ran == [
            "upgrade-etcd",
            "upgrade-kube-apiserver",
            "upgrade-controller-manager-scheduler",
            "upgrade-node-pools",
        ]
        async with kube_cluster.client() as api:
            for component in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
                dep = await kube.get(api, "Deployment", f"hc1-{component}", ns)
                assert dep is not None
                assert dep["spec"]["template"]["spec"]["containers"][0]["image"].endswith(":v1.36.3")
            sts = await kube.get(api, "StatefulSet", "hc1-etcd", ns)
            assert sts is not None
            assert sts["spec"]["template"]["spec"]["containers"][0]["image"].endswith("etcd:3.6.16-0")
        assert (await provider.health(ref)).healthy

        # two-phase CA rotation: new leaves in the Secret, the control plane rolled to pick them up
        async with kube_cluster.client() as api:
            before = await kube.get(api, "Secret", "hc1-pki", ns)
        changed = await provider.rotate_ca(ref, phase="start")
        assert "apiserver" in changed and "admin" in changed
        async with kube_cluster.client() as api:
            after = await kube.get(api, "Secret", "hc1-pki", ns)
            assert before is not None and after is not None
            assert after["data"]["apiserver.crt"] != before["data"]["apiserver.crt"]
            bundle = base64.b64decode(after["data"]["ca.crt"]).decode()
            assert bundle.count("BEGIN CERTIFICATE") == 2  # old and new CA trusted mid-rotation
            dep = await kube.get(api, "Deployment", "hc1-kube-apiserver", ns)
            assert dep is not None and "berth.io/pki-changed-at" in dep["spec"]["template"]["metadata"]["annotations"]
        await provider.rotate_ca(ref, phase="complete")
        async with kube_cluster.client() as api:
            done = await kube.get(api, "Secret", "hc1-pki", ns)
            assert done is not None
            assert base64.b64decode(done["data"]["ca.crt"]).decode().count("BEGIN CERTIFICATE") == 1
        assert await provider.renew_certificates(ref) == []  # nothing near expiry
    finally:
        if cluster.phase not in (Phase.DELETED,):
            cluster = Cluster.from_doc({**cluster.to_doc(), "phase": "Running", "operation": None})
            cluster.start_delete(at=datetime.now(UTC))
            await _drive(cluster, provider, ref, spec.version)
    assert cluster.phase == Phase.DELETED
    async with kube_cluster.client() as api:
        assert await provider.leftovers(api, ref) == []
