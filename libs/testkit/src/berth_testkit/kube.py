"""A real Kubernetes control plane on loopback: etcd + kube-apiserver (the envtest
equivalent), optionally with kube-controller-manager, kube-scheduler and kwok nodes."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import ssl
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from kubernetes_asyncio import client as k8s
from kubernetes_asyncio.client import ApiClient
from kubernetes_asyncio.config import new_client_from_config

from .parts import binary
from .pki import CertAuthority, service_account_key
from .probes import http_ok, insecure_tls
from .procs import Proc, free_port

KWOK_NODE_ANNOTATION = "kwok.x-k8s.io/node"
SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/24"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@dataclass
class KubeApi:
    """etcd + kube-apiserver with RBAC, an admin client certificate and a kubeconfig."""

    work_dir: Path
    port: int = field(default_factory=free_port)
    etcd_port: int = field(default_factory=free_port)
    etcd_peer_port: int = field(default_factory=free_port)
    procs: list[Proc] = field(default_factory=list)
    startup_seconds: float = 0.0

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def kubeconfig_path(self) -> Path:
        return self.work_dir / "admin.kubeconfig"

    @property
    def pki_dir(self) -> Path:
        return self.work_dir / "pki"

    def start(self) -> KubeApi:
        began = time.monotonic()
        self.pki_dir.mkdir(parents=True, exist_ok=True)
        self._write_pki()
        etcd = Proc(
            "etcd",
            [
                binary("etcd"),
                "--name=default",
                f"--data-dir={self.work_dir / 'etcd'}",
                f"--listen-client-urls=http://127.0.0.1:{self.etcd_port}",
                f"--advertise-client-urls=http://127.0.0.1:{self.etcd_port}",
                f"--listen-peer-urls=http://127.0.0.1:{self.etcd_peer_port}",
                f"--initial-advertise-peer-urls=http://127.0.0.1:{self.etcd_peer_port}",
                f"--initial-cluster=default=http://127.0.0.1:{self.etcd_peer_port}",
                "--unsafe-no-fsync=true",
                "--log-level=warn",
            ],
            log_dir=self.work_dir,
        ).start()
        self.procs.append(etcd)
        etcd.wait_ready(lambda: http_ok(f"http://127.0.0.1:{self.etcd_port}/health"), timeout=60)
        p = self.pki_dir
        apiserver = Proc(
            "kube-apiserver",
            [
                binary("kube-apiserver"),
                "--advertise-address=127.0.0.1",
                "--bind-address=127.0.0.1",
                f"--secure-port={self.port}",
                f"--etcd-servers=http://127.0.0.1:{self.etcd_port}",
                f"--cert-dir={p}",
                f"--tls-cert-file={p / 'apiserver.crt'}",
                f"--tls-private-key-file={p / 'apiserver.key'}",
                f"--client-ca-file={p / 'ca.crt'}",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={p / 'sa.pub'}",
                f"--service-account-signing-key-file={p / 'sa.key'}",
                f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
                "--authorization-mode=RBAC",
                "--allow-privileged=true",
                # as envtest does: pods need no token Secret/ServiceAccount to be admitted
                "--disable-admission-plugins=ServiceAccount",
            ],
            log_dir=self.work_dir,
        ).start()
        self.procs.append(apiserver)
        apiserver.wait_ready(
            lambda: http_ok(f"{self.server}/readyz", context=self._admin_tls()), timeout=120, what="(/readyz)"
        )
        self.startup_seconds = time.monotonic() - began
        return self

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()
        self.procs.clear()

    def _write_pki(self) -> None:
        p = self.pki_dir
        self.ca = CertAuthority("berth-test-kube-ca")
        self.ca.pair.write(p, "ca")
        self.ca.issue(
            "kube-apiserver",
            dns_names=(
                "localhost",
                "kubernetes",
                "kubernetes.default",
                "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local",
            ),
            ip_addresses=("127.0.0.1", "10.0.0.1"),
            server=True,
        ).write(p, "apiserver")
        self.admin = self.ca.issue("berth-admin", organizations=("system:masters",), client=True)
        self.admin.write(p, "admin")
        sa_key, sa_pub = service_account_key()
        (p / "sa.key").write_bytes(sa_key)
        (p / "sa.pub").write_bytes(sa_pub)
        self.kubeconfig_path.write_text(yaml.safe_dump(self.kubeconfig_dict()))
        self.kubeconfig_path.chmod(0o600)

    def kubeconfig_dict(self) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "berth-test",
                    "cluster": {"server": self.server, "certificate-authority-data": _b64(self.ca.cert_pem)},
                }
            ],
            "users": [
                {
                    "name": "berth-admin",
                    "user": {
                        "client-certificate-data": _b64(self.admin.cert_pem),
                        "client-key-data": _b64(self.admin.key_pem),
                    },
                }
            ],
            "contexts": [{"name": "berth-test", "context": {"cluster": "berth-test", "user": "berth-admin"}}],
            "current-context": "berth-test",
        }

    def _admin_tls(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(self.pki_dir / "ca.crt"))
        ctx.load_cert_chain(self.pki_dir / "admin.crt", self.pki_dir / "admin.key")
        return ctx

    async def api_client(self) -> ApiClient:
        """A new kubernetes_asyncio ApiClient as cluster admin; the caller closes it."""
        return await new_client_from_config(config_file=str(self.kubeconfig_path))

    @contextlib.asynccontextmanager
    async def client(self) -> AsyncIterator[ApiClient]:
        api = await self.api_client()
        try:
            yield api
        finally:
            await api.close()


@dataclass
class KubeCluster:
    """A KubeApi plus kube-controller-manager, kube-scheduler and kwok managing fake nodes."""

    api: KubeApi
    work_dir: Path
    procs: list[Proc] = field(default_factory=list)
    startup_seconds: float = 0.0

    @property
    def kubeconfig_path(self) -> Path:
        return self.api.kubeconfig_path

    @property
    def server(self) -> str:
        return self.api.server

    async def api_client(self) -> ApiClient:
        return await self.api.api_client()

    def client(self) -> contextlib.AbstractAsyncContextManager[ApiClient]:
        return self.api.client()

    def start(self) -> KubeCluster:
        began = time.monotonic()
        kubeconfig = str(self.api.kubeconfig_path)
        pki = self.api.pki_dir
        common = [
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            "--bind-address=127.0.0.1",
            "--leader-elect=false",
        ]
        kcm_port, sched_port = free_port(), free_port()
        kcm = Proc(
            "kube-controller-manager",
            [
                binary("kube-controller-manager"),
                *common,
                f"--secure-port={kcm_port}",
                f"--service-account-private-key-file={pki / 'sa.key'}",
                f"--root-ca-file={pki / 'ca.crt'}",
                f"--cluster-signing-cert-file={pki / 'ca.crt'}",
                f"--cluster-signing-key-file={pki / 'ca.key'}",
                f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
                # kwok renews the simulated nodes' leases; on a loaded 2-core machine a renewal can
                # come late, and after the default 50 s the node lifecycle controller marks every
                # pod on the node NotReady (Ready=False, ContainersReady=True), which kwok never
                # undoes: rollouts then wait forever. Tests do not exercise node loss this way.
                "--node-monitor-grace-period=10m",
            ],
            log_dir=self.work_dir,
        ).start()
        self.procs.append(kcm)
        sched = Proc(
            "kube-scheduler",
            [binary("kube-scheduler"), *common, f"--secure-port={sched_port}"],
            log_dir=self.work_dir,
        ).start()
        self.procs.append(sched)
        kwok_port = free_port()
        kwok = Proc(
            "kwok",
            [
                binary("kwok"),
                f"--kubeconfig={kubeconfig}",
                "--manage-all-nodes=false",
                f"--manage-nodes-with-annotation-selector={KWOK_NODE_ANNOTATION}=fake",
                "--node-ip=127.0.0.1",
                "--cidr=10.244.0.1/16",
                f"--server-address=127.0.0.1:{kwok_port}",
            ],
            log_dir=self.work_dir,
        ).start()
        self.procs.append(kwok)
        tls = insecure_tls()
        kcm.wait_ready(lambda: http_ok(f"https://127.0.0.1:{kcm_port}/healthz", context=tls), timeout=90)
        sched.wait_ready(lambda: http_ok(f"https://127.0.0.1:{sched_port}/healthz", context=tls), timeout=90)
        kwok.wait_ready(lambda: http_ok(f"http://127.0.0.1:{kwok_port}/healthz"), timeout=60)
        self.startup_seconds = time.monotonic() - began
        return self

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()
        self.procs.clear()

    def log_tails(self) -> str:
        return "\n".join(f"--- {p.log_path} ---\n{p.log_tail(30)}" for p in [*self.api.procs, *self.procs])

    async def create_node(
        self,
        name: str,
        *,
        zone: str = "zone-a",
        cpu: str = "32",
        memory: str = "256Gi",
        pods: str = "110",
        labels: Mapping[str, str] | None = None,
        taints: list[dict[str, str]] | None = None,
        ready_timeout: float = 60.0,
    ) -> dict[str, Any]:
        """Create a Node that kwok manages and wait until it reports Ready."""
        capacity = {"cpu": cpu, "memory": memory, "pods": pods}
        body: Any = {  # the client's stubs want V1Node; it serialises a dict the same
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": name,
                "annotations": {KWOK_NODE_ANNOTATION: "fake", "node.alpha.kubernetes.io/ttl": "0"},
                "labels": {
                    "kubernetes.io/hostname": name,
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                    "type": "kwok",
                    "topology.kubernetes.io/zone": zone,
                    **(labels or {}),
                },
            },
            "spec": {"taints": taints or []},
            "status": {"capacity": capacity, "allocatable": capacity},
        }
        async with self.client() as api:
            core = k8s.CoreV1Api(api)
            await core.create_node(body)
            deadline = time.monotonic() + ready_timeout
            while True:
                node = await core.read_node(name)
                conditions = node.status.conditions or []
                if any(c.type == "Ready" and c.status == "True" for c in conditions):
                    result: dict[str, Any] = api.sanitize_for_serialization(node)
                    return result
                if time.monotonic() > deadline:
                    raise TimeoutError(
                        f"kwok did not make node {name} Ready in {ready_timeout:.0f}s.\n" + self.log_tails()
                    )
                await asyncio.sleep(0.2)
