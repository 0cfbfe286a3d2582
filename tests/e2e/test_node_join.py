"""A machine joins a tenant cluster with a token, end to end on real parts: cluster-manager builds a
local control plane (etcd, kube-apiserver, controller-manager) and issues the token; node-manager
asks for it on behalf of a pool; ``berth node join`` (a subprocess) discovers the cluster with the
CA pinned, gets its client certificate through the controller-manager's CSR approval and signing,
and registers; node-manager then adopts the node into the pool the token was issued for."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import yaml
from berth_cluster_manager import handlers as cm_handlers
from berth_cluster_manager.app import app as cm
from berth_cluster_manager.providers import Providers
from berth_cluster_manager.providers.local import LocalProvider
from berth_common.bus import QueryError
from berth_common.events import Envelope
from berth_common.runtime.settings import ServiceSettings
from berth_common.store.memory import MemoryStore
from berth_node_manager import handlers as nm_handlers  # noqa: F401  (declare themselves on the app)
from berth_node_manager import joins, loops
from berth_node_manager.app import app as nm
from berth_node_manager.state import JOIN_TOKENS
from berth_schema.cluster import CreateCluster, DeleteCluster
from berth_schema.node import CreatePool
from berth_testkit.nats import NatsServer
from cryptography import x509
from kubernetes_asyncio import client as k8s
from kubernetes_asyncio.client import ApiClient
from kubernetes_asyncio.client.exceptions import ApiException
from kubernetes_asyncio.config import new_client_from_config_dict

TENANT = "tj"
CLUSTER = "joinme"


async def eventually(check: Callable[[], Awaitable[Any]], *, within: float = 60.0, what: str = "condition") -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    last: Any = None
    while loop.time() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.2)
    raise AssertionError(f"{what} not reached within {within:g}s (last: {last!r})")


class Rig:
    def __init__(self, api: ApiClient, facts: list[Envelope], work: Path) -> None:
        self.api = api
        self.core = k8s.CoreV1Api(api)
        self.facts = facts
        self.work = work

    async def nm(self, op: str, **payload: Any) -> dict[str, Any]:
        return await nm.bus.request("node-manager", op, payload, timeout=40)

    async def cm(self, op: str, **payload: Any) -> dict[str, Any]:
        return await cm.bus.request("cluster-manager", op, payload, timeout=40)

    def join(self, *args: str, name: str) -> subprocess.CompletedProcess[str]:
        """``berth node join`` as an operator runs it on the machine (here: once, then exit)."""
        argv = [sys.executable, "-m", "berth", "node", "join", *args, "--name", name]
        argv += ["--dir", str(self.work / name), "--once", "--wait", "30"]
        return subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)

    def of(self, type_: str, **match: Any) -> list[Envelope]:
        return [e for e in self.facts if e.type == type_ and all(e.data.get(k) == v for k, v in match.items())]


def _argv(command: str) -> list[str]:
    """The join command node-manager printed, without the leading ``berth node join``."""
    import shlex

    words = shlex.split(command)
    assert words[:3] == ["berth", "node", "join"], command
    return words[3:]


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def rig(nats_server: NatsServer, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Rig]:
    data = tmp_path_factory.mktemp("join")
    cm_handlers.wiring.providers = Providers({"local": LocalProvider(data / "cm", ready_timeout=90)})
    loops.LoopSettings.interval_seconds = 3600  # the test runs the adoption step itself
    for app, sub in ((cm, "cm"), (nm, "nm")):
        settings = ServiceSettings(nats_url=nats_server.url, data_dir=data / sub, http_port=0, log_json=False)
        await app.start(settings, store=MemoryStore())
    facts: list[Envelope] = []

    async def follow() -> None:
        async for _, env in nm.bus.events(subjects=["berth.evt.node.>", "berth.evt.cluster.>"]):
            facts.append(env)

    task = asyncio.create_task(follow())
    try:
        await cm.bus.emit(CreateCluster(spec={"name": CLUSTER, "provider": "local"}), tenant=TENANT)

        async def registered() -> bool:
            try:
                await nm.bus.request("node-manager", "list-pools", {"cluster": CLUSTER}, timeout=5)
                return True
            except QueryError:
                return False

        await eventually(registered, within=180, what="the cluster running and registered with node-manager")
        kc = yaml.safe_load(
            (await cm.bus.request("cluster-manager", "get-kubeconfig", {"tenant": TENANT, "cluster": CLUSTER}))[
                "kubeconfig"
            ]
        )
        api = await new_client_from_config_dict(kc)
        yield Rig(api, facts, data)
        await api.close()
    finally:
        await cm.bus.emit(DeleteCluster(cluster=CLUSTER), tenant=TENANT)
        with contextlib.suppress(AssertionError):
            await eventually(
                lambda: _done([e for e in facts if e.type == "berth.cluster.deleted.v1"]), within=120, what="deleted"
            )
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await nm.stop()
        await cm.stop()


async def _done(value: Any) -> Any:
    return value


async def _pool(rig: Rig, name: str, **spec: Any) -> None:
    await nm.bus.emit(
        CreatePool(cluster=CLUSTER, tenant=TENANT, **{"name": name, "flavour": {"cpu": 4, "memory_gib": 8}, **spec}),
        tenant=TENANT,
    )
    await eventually(lambda: _done(rig.of("berth.node.pool-created.v1", pool=name)), what=f"pool {name} created")


async def test_a_machine_joins_a_pool_with_its_token_and_is_adopted(rig: Rig) -> None:
    await _pool(rig, "edge", count=0, role="ingress", labels={"tier": "edge"}, zone="zone-b")
    issued = await rig.nm("join-command", tenant=TENANT, cluster=CLUSTER, pool="edge", ttl_seconds=3600)
    assert issued["token"].startswith(issued["token_id"] + ".") and issued["ca_cert_hash"].startswith("sha256:")
    assert "--taint node-role.kubernetes.io/ingress:NoSchedule" in issued["command"]

    # the token is a real bootstrap token in the tenant cluster, expiring when the reply says
    secret = await rig.core.read_namespaced_secret(f"bootstrap-token-{issued['token_id']}", "kube-system")
    assert secret.type == "bootstrap.kubernetes.io/token"
    expiration = base64.b64decode(secret.data["expiration"]).decode()
    assert expiration.replace("Z", "+00:00") == issued["expires"]
    # the fact about it names the token but never carries its secret
    fact = await eventually(
        lambda: _done(rig.of("berth.cluster.join-token-issued.v1", token_id=issued["token_id"])), what="issued fact"
    )
    assert issued["token"] not in str(fact[0].data)

    done = rig.join(*_argv(issued["command"]), name="edge-m1")
    assert done.returncode == 0, done.stderr + done.stdout
    node = await rig.core.read_node("edge-m1")
    # registered by the node itself, with the pool's taint from the first moment
    assert node.metadata.labels["berth.io/pool"] == "edge"
    assert ("node-role.kubernetes.io/ingress", "NoSchedule") in [(t.key, t.effect) for t in node.spec.taints]
    csrs = (await k8s.CertificatesV1Api(rig.api).list_certificate_signing_request()).items
    mine = [c for c in csrs if c.spec.username == f"system:bootstrap:{issued['token_id']}"]
    assert mine and any(c.type == "Approved" for c in mine[0].status.conditions)

    adopted = await joins.adopt_step(CLUSTER)
    assert [(f.node, f.pool, f.source) for f in adopted] == [("edge-m1", "edge", "joined")]
    node = await rig.core.read_node("edge-m1")
    labels = node.metadata.labels
    assert labels["topology.kubernetes.io/zone"] == "zone-b" and labels["tier"] == "edge"
    assert labels["berth.io/flavour"] == "4c8g" and "node-role.kubernetes.io/ingress" in labels
    assert node.metadata.annotations["berth.io/source"] == "joined"
    rows = (await rig.nm("list-nodes", tenant=TENANT, cluster=CLUSTER, pool="edge"))["items"]
    assert [(r["name"], r["source"], r["status"]) for r in rows] == [("edge-m1", "joined", "Ready")]
    pool = await rig.nm("get-pool", tenant=TENANT, cluster=CLUSTER, pool="edge")
    assert pool["count"] == 1  # scaling will not take the joined machine straight out again
    await eventually(lambda: _done(rig.of("berth.node.added.v1", node="edge-m1", source="joined")), what="added fact")
    assert await joins.adopt_step(CLUSTER) == []  # once

    # the node's own credentials are a node's: NodeRestriction keeps it off other nodes
    node_api = await new_client_from_config_dict(yaml.safe_load((rig.work / "edge-m1" / "kubelet.conf").read_text()))
    try:
        await k8s.CoreV1Api(node_api).read_node("edge-m1")
        other = {"metadata": {"name": "not-edge-m1"}}
        with pytest.raises(ApiException) as refused:
            await k8s.CoreV1Api(node_api).create_node(other)
        assert refused.value.status == 403
    finally:
        await node_api.close()


async def test_a_node_cannot_pick_its_pool_only_its_token_does(rig: Rig) -> None:
    await _pool(rig, "gpu", count=0)
    # a token from cluster-manager directly, issued for no pool, with a node claiming pool gpu
    stray = await rig.cm("issue-join-token", tenant=TENANT, cluster=CLUSTER, ttl_seconds=600)
    args = ["--server", stray["server"], "--token", stray["token"], "--ca-cert-hash", stray["ca_cert_hash"]]
    done = rig.join(*args, "--label", "berth.io/pool=gpu", name="sneaky")
    assert done.returncode == 0, done.stderr
    assert await joins.adopt_step(CLUSTER) == []
    rows = (await rig.nm("list-nodes", tenant=TENANT, cluster=CLUSTER))["items"]
    assert {r["name"]: r["source"] for r in rows}["sneaky"] == "imported"
    assert (await rig.nm("get-pool", tenant=TENANT, cluster=CLUSTER, pool="gpu"))["count"] == 0


async def test_the_agent_resumes_from_its_saved_identity_until_the_node_is_removed(rig: Rig) -> None:
    def agent(name: str, *extra: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-m", "berth", "node", "agent", "--name", name, "--dir", str(rig.work / name), "--once"]
        argv += extra
        return subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)

    done = agent("sneaky")  # joined in an earlier test; no token needed to carry on
    assert done.returncode == 0 and "heartbeat sent" in done.stdout, done.stderr

    # the node renews its own certificate with the one it has (auto-approved as selfnodeclient)
    cert_file = rig.work / "sneaky" / "pki" / "kubelet-client.crt"
    before = x509.load_pem_x509_certificate(cert_file.read_bytes())
    done = agent("sneaky", "--rotate")
    assert done.returncode == 0 and "client certificate renewed" in done.stdout, done.stderr
    after = x509.load_pem_x509_certificate(cert_file.read_bytes())
    assert after.serial_number != before.serial_number and after.public_key() != before.public_key()
    csrs = (await k8s.CertificatesV1Api(rig.api).list_certificate_signing_request()).items
    assert any(c.spec.username == "system:node:sneaky" and c.status.certificate for c in csrs)
    assert agent("sneaky").returncode == 0  # and keeps going on the new one
    await rig.core.delete_node("sneaky")
    done = agent("sneaky")
    assert done.returncode == 1 and "no longer in the cluster" in done.stderr, done.stderr
    done = agent("never-joined")
    assert done.returncode == 1 and "run berth node join first" in done.stderr, done.stderr


async def test_a_wrong_ca_pin_or_a_revoked_token_is_refused(rig: Rig) -> None:
    await _pool(rig, "batch", count=0)
    issued = await rig.nm("join-command", tenant=TENANT, cluster=CLUSTER, pool="batch")
    argv = _argv(issued["command"])
    pinned = argv.index("--ca-cert-hash") + 1
    argv[pinned] = "sha256:" + "0" * 64
    done = rig.join(*argv, name="mitm")
    assert done.returncode == 1
    assert "matches no --ca-cert-hash" in done.stderr and "refusing to trust it" in done.stderr
    assert await rig.core.list_node(field_selector="metadata.name=mitm") is not None
    assert not (await rig.core.list_node(field_selector="metadata.name=mitm")).items

    tokens = (await rig.cm("list-join-tokens", tenant=TENANT, cluster=CLUSTER))["items"]
    assert issued["token_id"] in {t["token_id"] for t in tokens}
    assert all("token" not in t for t in tokens)
    await rig.cm("revoke-join-token", tenant=TENANT, cluster=CLUSTER, token_id=issued["token_id"])
    with pytest.raises(QueryError) as gone:
        await rig.cm("revoke-join-token", tenant=TENANT, cluster=CLUSTER, token_id=issued["token_id"])
    assert gone.value.code == 404
    done = rig.join(*_argv(issued["command"]), name="late")
    assert done.returncode == 1, done.stderr
    # refused either way: the signer no longer signs cluster-info for it, or the API server rejects it
    assert "unknown or expired" in done.stderr or "does not accept these credentials" in done.stderr, done.stderr


async def test_records_of_long_expired_tokens_are_forgotten(rig: Rig) -> None:
    col = nm.store.collection(JOIN_TOKENS)
    old = (datetime.now(UTC) - timedelta(hours=2)).isoformat()
    fresh = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
    base = {"cluster": CLUSTER, "tenant": TENANT, "pool": "sim"}
    await col.create(f"{CLUSTER}/oldold", {**base, "token_id": "oldold", "expires": old})
    await col.create(f"{CLUSTER}/fresh1", {**base, "token_id": "fresh1", "expires": fresh})
    await joins.adopt_step(CLUSTER)
    assert await col.get(f"{CLUSTER}/oldold") is None
    assert await col.get(f"{CLUSTER}/fresh1") is not None


async def test_bad_join_token_requests_get_clear_errors(rig: Rig) -> None:
    with pytest.raises(QueryError) as bad_ttl:
        await rig.cm("issue-join-token", tenant=TENANT, cluster=CLUSTER, ttl_seconds=5)
    assert bad_ttl.value.code == 400 and "ttl_seconds" in bad_ttl.value.detail
    with pytest.raises(QueryError) as no_pool:
        await rig.nm("join-command", tenant=TENANT, cluster=CLUSTER, pool="nope")
    assert no_pool.value.code == 404 and "nope" in no_pool.value.detail
    with pytest.raises(QueryError) as no_cluster:
        await rig.cm("issue-join-token", tenant=TENANT, cluster="absent")
    assert no_cluster.value.code == 404


async def test_a_local_clusters_pool_gets_ready_simulated_nodes(rig: Rig) -> None:
    # the local provider runs kwok beside the control plane, so node-manager's nodes come up Ready
    await _pool(rig, "sim", count=2)

    async def ready() -> list[tuple[str, str]]:
        rows = (await rig.nm("list-nodes", tenant=TENANT, cluster=CLUSTER, pool="sim"))["items"]
        found = [(r["source"], r["status"]) for r in rows]
        return found if found == [("created", "Ready")] * 2 else []

    await eventually(ready, within=90, what="two Ready kwok nodes in pool sim")
    assert len(rig.of("berth.node.added.v1", pool="sim")) == 2 or await eventually(
        lambda: _done(len(rig.of("berth.node.added.v1", pool="sim")) == 2), what="two node-added facts"
    )
    health = (await rig.cm("get-cluster", tenant=TENANT, cluster=CLUSTER))["control_plane"]
    assert health["components"]["kwok"] == "Available"
