"""A local tenant control plane (etcd + kube-apiserver + controller-manager + scheduler as
processes) answers kubernetes_asyncio through its generated admin kubeconfig."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from berth_cluster_manager.domain import Cluster, Phase, parse_spec
from berth_cluster_manager.providers import local_procs
from berth_cluster_manager.providers.base import ClusterRef, StepFailed
from berth_cluster_manager.providers.local import LocalProvider
from kubernetes_asyncio import client as k8s
from kubernetes_asyncio.config import new_client_from_config_dict


async def _drive(cluster: Cluster, provider: LocalProvider, ref: ClusterRef) -> None:
    while (step := cluster.current_step) is not None:
        cluster.step_started(step, at=datetime.now(UTC))
        note = await provider.run_step(ref, step, version=cluster.spec.version)
        cluster.step_succeeded(step, at=datetime.now(UTC), message=note)


async def test_local_cluster_answers_through_its_admin_kubeconfig(tmp_path: Path) -> None:
    provider = LocalProvider(tmp_path, ready_timeout=90)
    spec = parse_spec({"name": "lc1", "provider": "local", "service_cidr": "10.96.0.0/16"})
    ref = ClusterRef(tenant="t1", name="lc1", spec=spec)
    cluster = Cluster.request(tenant="t1", spec=spec, at=datetime.now(UTC))
    lc = provider.cluster(ref)
    try:
        await _drive(cluster, provider, ref)
        assert cluster.phase == Phase.RUNNING
        health = await provider.health(ref)
        assert health.healthy, health
        kubeconfig = await provider.admin_kubeconfig(ref)
        assert kubeconfig["clusters"][0]["cluster"]["server"].startswith("https://127.0.0.1:")
        api = await new_client_from_config_dict(kubeconfig)
        try:
            core = k8s.CoreV1Api(api)
            names = {ns.metadata.name for ns in (await core.list_namespace()).items}
            assert {"default", "kube-system", "kube-public"} <= names
            svc = await core.read_namespaced_service("kubernetes", "default")
            assert svc.spec.cluster_ip == "10.96.0.1"  # first IP of the service CIDR, in the serving cert's SANs
            await core.create_namespace({"metadata": {"name": "team-a"}})
            # the controller-manager runs: the namespace gets its default ServiceAccount
            for _ in range(100):
                sas = await core.list_namespaced_service_account("team-a")
                if sas.items:
                    break
                await asyncio.sleep(0.2)
            assert [s.metadata.name for s in sas.items] == ["default"]
        finally:
            await api.close()
        rss = provider.peak_rss_bytes(ref)
        assert set(rss) == {"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"}
        assert all(v > 0 for v in rss.values())
    finally:
        pids = lc.pids()
        cluster = Cluster.from_doc({**cluster.to_doc(), "phase": "Running", "operation": None})
        cluster.start_delete(at=datetime.now(UTC))
        await _drive(cluster, provider, ref)
    assert cluster.phase == Phase.DELETED
    assert pids and not any(local_procs.alive(pid) for pid in pids.values())
    assert not lc.dir.exists()


def _local(name: str) -> tuple[ClusterRef, Cluster]:
    spec = parse_spec({"name": name, "provider": "local"})
    return ClusterRef(tenant="t1", name=name, spec=spec), Cluster.request(tenant="t1", spec=spec, at=datetime.now(UTC))


async def test_a_failed_create_leaves_no_process_of_the_cluster_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    provider = LocalProvider(tmp_path, ready_timeout=60, controllers=False)
    ref, cluster = _local("broken")
    lc = provider.cluster(ref)
    monkeypatch.setenv("BERTH_BIN_KUBE_APISERVER", "/bin/false")  # exits at once: provisioning fails after etcd
    version = cluster.spec.version
    try:
        await provider.run_step(ref, "issue-certificates", version=version)
        await provider.run_step(ref, "provision-etcd", version=version)
        etcd = lc.pids()["etcd"]
        assert local_procs.alive(etcd) and local_procs.pids_under(lc.dir) == [etcd]
        with pytest.raises(StepFailed, match="kube-apiserver exited"):
            await provider.run_step(ref, "provision-control-plane", version=version)
        assert not local_procs.alive(etcd)
        assert local_procs.pids_under(lc.dir) == [] and lc.pids() == {}
    finally:
        await provider.stop_processes(lc)


async def test_stopping_the_service_stops_an_unfinished_create(tmp_path: Path) -> None:
    provider = LocalProvider(tmp_path, ready_timeout=60, controllers=False)
    ref, cluster = _local("halfway")
    lc = provider.cluster(ref)
    try:
        await provider.run_step(ref, "issue-certificates", version=cluster.spec.version)
        await provider.run_step(ref, "provision-etcd", version=cluster.spec.version)
        assert local_procs.pids_under(lc.dir)
        await provider.close()
        assert local_procs.pids_under(lc.dir) == [] and lc.pids() == {}
    finally:
        await provider.stop_processes(lc)
