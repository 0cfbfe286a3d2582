"""The local provider: the same control plane as local processes (etcd, kube-apiserver,
kube-controller-manager, kube-scheduler) on free loopback ports, with certificates from
the cluster PKI, everything under ``<data_dir>/clusters/<tenant>/<name>``.

For the embedded single-machine default, CI and scale simulation (kwok provides nodes)."""

from __future__ import annotations

import asyncio
import ipaddress
import json
import shutil
import ssl
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from kubernetes_asyncio.client import ApiClient
from kubernetes_asyncio.config import new_client_from_config_dict

from .. import binaries
from ..pki import ClusterPki, PkiParams
from . import local_procs as procs
from .base import ClusterRef, ControlPlaneHealth, StepFailed

# kwok runs the kwok-annotated Nodes node-manager creates in a local cluster, and their pods
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
CREATE_STEPS = (
    "issue-certificates",
    "provision-etcd",
    "provision-control-plane",
    "wait-control-plane-ready",
    "publish-kubeconfig",
)
PORT_NAMES = ("apiserver", "etcd_client", "etcd_peer", "etcd_metrics", "controller_manager", "scheduler", "kwok")
KWOK_NODE_SELECTOR = "kwok.x-k8s.io/node=fake"


def _now() -> datetime:
    return datetime.now(UTC)


class LocalCluster:
    """The files of one local cluster."""

    def __init__(self, root: Path, ref: ClusterRef) -> None:
        self.ref = ref
        self.dir = root / "clusters" / ref.tenant / ref.name
        self.pki_dir = self.dir / "pki"
        self.log_dir = self.dir / "logs"

    def _read(self, name: str) -> dict[str, Any]:
        path = self.dir / name
        return json.loads(path.read_text()) if path.exists() else {}

    def _write(self, name: str, doc: dict[str, Any]) -> None:
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = self.dir / f".{name}.tmp"
        tmp.write_text(json.dumps(doc))
        tmp.chmod(0o600)
        tmp.replace(self.dir / name)

    def ports(self) -> dict[str, int]:
        ports = {k: int(v) for k, v in self._read("ports.json").items()}
        missing = [name for name in PORT_NAMES if name not in ports]  # clusters made by older versions
        if missing:
            ports.update({name: procs.free_port() for name in missing})
            self._write("ports.json", ports)
        return ports

    def pids(self) -> dict[str, int]:
        return {k: int(v) for k, v in self._read("pids.json").items()}

    def set_pid(self, component: str, pid: int | None) -> None:
        pids = self.pids()
        if pid is None:
            pids.pop(component, None)
        else:
            pids[component] = pid
        self._write("pids.json", pids)

    def load_pki(self) -> ClusterPki | None:
        doc = self._read("pki.json")
        return ClusterPki.from_doc(doc) if doc else None

    def save_pki(self, pki: ClusterPki) -> None:
        self._write("pki.json", pki.to_doc())
        pki.write(self.pki_dir)

    @property
    def server(self) -> str:
        return f"https://127.0.0.1:{self.ports()['apiserver']}"

    def kubeconfig_path(self, user: str) -> Path:
        return self.dir / f"{user}.kubeconfig"


class LocalProvider:
    name = "local"

    def __init__(self, data_dir: Path, *, ready_timeout: float = 120.0, controllers: bool = True) -> None:
        self.data_dir = data_dir
        self.ready_timeout = ready_timeout
        self.controllers = controllers
        self._locks: dict[str, asyncio.Lock] = {}
        self._creating: dict[str, LocalCluster] = {}  # clusters whose creation runs in this process

    def cluster(self, ref: ClusterRef) -> LocalCluster:
        return LocalCluster(self.data_dir, ref)

    # --- steps ----------------------------------------------------------------
    async def run_step(self, ref: ClusterRef, step: str, *, version: str) -> str:
        lc = self.cluster(ref)
        creating = step in CREATE_STEPS
        if creating:
            self._creating[str(lc.dir)] = lc
        try:
            note = await self._step(lc, step, version)
        except Exception as exc:
            if creating:
                # nothing of a cluster that failed to come up keeps running; a retry starts
                # what the step it resumes at needs (see _ensure)
                self._creating.pop(str(lc.dir), None)
                await self.stop_processes(lc)
            if isinstance(exc, binaries.BinaryMissing | TimeoutError):
                raise StepFailed(str(exc)) from exc
            raise
        if step == CREATE_STEPS[-1]:
            self._creating.pop(str(lc.dir), None)
        return note

    async def close(self) -> None:
        """Stop the processes of clusters whose creation this process began and did not finish."""
        while self._creating:
            _, lc = self._creating.popitem()
            await self.stop_processes(lc)

    async def stop_processes(self, lc: LocalCluster) -> list[str]:
        """Stop every component of ``lc`` (clients before servers); returns those that ran."""
        stopped: list[str] = []
        for component in reversed(COMPONENTS):
            pid = lc.pids().get(component)
            if pid is None:
                continue
            if procs.alive(pid) and procs.runs_under(pid, lc.dir):  # never signal a recycled pid
                await procs.stop(pid)
                stopped.append(component)
            lc.set_pid(component, None)
        return stopped

    async def _ensure(self, lc: LocalCluster, components: tuple[str, ...], version: str) -> None:
        """Start those of ``components`` that are not running (a step resumed after a failure)."""
        for component in components:
            pid = lc.pids().get(component)
            if pid is None or not procs.alive(pid):
                await self._restart(lc, component, version)

    def _wanted(self) -> tuple[str, ...]:
        return COMPONENTS if self.controllers else COMPONENTS[:2]

    async def _step(self, lc: LocalCluster, step: str, version: str) -> str:
        if step == "issue-certificates":
            pki = lc.load_pki()
            if pki is None:
                ref = lc.ref
                params = PkiParams(cluster=ref.name, service_cidr=ref.spec.service_cidr, api_hosts=["127.0.0.1"])
                pki = await asyncio.to_thread(ClusterPki.issue, params, now=_now())
            lc.ports()
            lc.save_pki(pki)
            self._write_kubeconfigs(lc, pki)
            return f"certificates in {lc.pki_dir}"
        if step in ("provision-etcd", "upgrade-etcd"):
            await self._restart(lc, "etcd", version)
            return f"etcd on 127.0.0.1:{lc.ports()['etcd_client']}"
        if step in ("provision-control-plane", "upgrade-kube-apiserver"):
            await self._ensure(lc, ("etcd",), version)
            await self._restart(lc, "kube-apiserver", version)
            if step == "upgrade-kube-apiserver" or not self.controllers:
                return f"kube-apiserver {version} at {lc.server}"
            await self._restart(lc, "kube-controller-manager", version)
            await self._restart(lc, "kube-scheduler", version)
            await self._restart(lc, "kwok", version)
            return f"kube-apiserver at {lc.server}, controller-manager, scheduler and kwok started"
        if step == "upgrade-controller-manager-scheduler":
            if self.controllers:
                await self._restart(lc, "kube-controller-manager", version)
                await self._restart(lc, "kube-scheduler", version)
            return f"kube-controller-manager and kube-scheduler {version}"
        if step == "wait-control-plane-ready":
            await self._ensure(lc, self._wanted(), version)
            loop = asyncio.get_running_loop()
            deadline = loop.time() + self.ready_timeout
            health = await self._health(lc)
            while (
                not health.healthy
                and loop.time() < deadline
                and all(s != "not running" for s in health.components.values())
            ):
                await asyncio.sleep(0.5)
                health = await self._health(lc)
            if not health.healthy:
                raise StepFailed(
                    "control plane not healthy: "
                    + ", ".join(f"{c} {s}" for c, s in health.components.items() if s != "Available")
                )
            return "control plane healthy"
        if step == "publish-kubeconfig":
            return f"admin kubeconfig at {lc.kubeconfig_path('admin')}"
        if step == "delete-control-plane":
            self._creating.pop(str(lc.dir), None)
            await self.stop_processes(lc)
            return "processes stopped"
        if step == "delete-certificates-and-data":
            if lc.dir.exists():
                await asyncio.to_thread(shutil.rmtree, lc.dir)
            return f"removed {lc.dir}"
        raise StepFailed(f"the local provider has no step {step!r}")

    # --- processes ------------------------------------------------------------
    def _argv(self, lc: LocalCluster, component: str, version: str) -> list[str]:
        p, ports, spec = lc.pki_dir, lc.ports(), lc.ref.spec
        binary = binaries.find(component, kube_version=version)
        if component == "etcd":
            return [
                binary,
                f"--name={lc.ref.name}",
                f"--data-dir={lc.dir / 'etcd'}",
                f"--listen-client-urls=https://127.0.0.1:{ports['etcd_client']}",
                f"--advertise-client-urls=https://127.0.0.1:{ports['etcd_client']}",
                f"--listen-peer-urls=https://127.0.0.1:{ports['etcd_peer']}",
                f"--initial-advertise-peer-urls=https://127.0.0.1:{ports['etcd_peer']}",
                f"--initial-cluster={lc.ref.name}=https://127.0.0.1:{ports['etcd_peer']}",
                f"--listen-metrics-urls=http://127.0.0.1:{ports['etcd_metrics']}",
                "--client-cert-auth=true",
                f"--trusted-ca-file={p / 'etcd-ca.crt'}",
                f"--cert-file={p / 'etcd-server.crt'}",
                f"--key-file={p / 'etcd-server.key'}",
                "--peer-client-cert-auth=true",
                f"--peer-trusted-ca-file={p / 'etcd-ca.crt'}",
                f"--peer-cert-file={p / 'etcd-peer.crt'}",
                f"--peer-key-file={p / 'etcd-peer.key'}",
                "--unsafe-no-fsync=true",
                "--log-level=warn",
                "--quota-backend-bytes=2147483648",
            ]
        if component == "kube-apiserver":
            argv = [
                binary,
                "--advertise-address=127.0.0.1",
                "--bind-address=127.0.0.1",
                f"--secure-port={ports['apiserver']}",
                f"--cert-dir={p}",
                f"--etcd-servers=https://127.0.0.1:{ports['etcd_client']}",
                f"--etcd-cafile={p / 'etcd-ca.crt'}",
                f"--etcd-certfile={p / 'apiserver-etcd-client.crt'}",
                f"--etcd-keyfile={p / 'apiserver-etcd-client.key'}",
                f"--tls-cert-file={p / 'apiserver.crt'}",
                f"--tls-private-key-file={p / 'apiserver.key'}",
                f"--kubelet-client-certificate={p / 'apiserver-kubelet-client.crt'}",
                f"--kubelet-client-key={p / 'apiserver-kubelet-client.key'}",
                "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
                f"--service-account-key-file={p / 'sa.pub'}",
                f"--service-account-signing-key-file={p / 'sa.key'}",
                f"--service-cluster-ip-range={spec.service_cidr}",
                f"--authorization-mode={'Node,RBAC' if spec.rbac else 'AlwaysAllow'}",
                f"--requestheader-client-ca-file={p / 'front-proxy-ca.crt'}",
                f"--proxy-client-cert-file={p / 'front-proxy-client.crt'}",
                f"--proxy-client-key-file={p / 'front-proxy-client.key'}",
                "--requestheader-allowed-names=front-proxy-client",
                "--requestheader-username-headers=X-Remote-User",
                "--requestheader-group-headers=X-Remote-Group",
                "--requestheader-extra-headers-prefix=X-Remote-Extra-",
                f"--max-requests-inflight={spec.flavour_info.max_requests_inflight}",
                "--allow-privileged=true",
                "--enable-admission-plugins=NodeRestriction",
                "--enable-bootstrap-token-auth=true",
            ]
            if spec.x509_auth:
                argv.append(f"--client-ca-file={p / 'ca.crt'}")
            return argv
        if component == "kwok":
            pods = ipaddress.ip_network(spec.pod_cidr or "10.244.0.0/16", strict=False)
            return [
                binary,
                f"--kubeconfig={lc.kubeconfig_path('admin')}",
                "--manage-all-nodes=false",
                f"--manage-nodes-with-annotation-selector={KWOK_NODE_SELECTOR}",
                "--node-ip=127.0.0.1",
                f"--cidr={pods.network_address + 1}/{pods.prefixlen}",
                f"--server-address=127.0.0.1:{ports['kwok']}",
            ]
        kubeconfig = lc.kubeconfig_path("controller-manager" if component == "kube-controller-manager" else "scheduler")
        common = [
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            "--bind-address=127.0.0.1",
            "--leader-elect=false",
        ]
        if component == "kube-controller-manager":
            return [
                binary,
                *common,
                f"--secure-port={ports['controller_manager']}",
                f"--service-account-private-key-file={p / 'sa.key'}",
                f"--root-ca-file={p / 'ca.crt'}",
                f"--cluster-signing-cert-file={p / 'ca-signing.crt'}",
                f"--cluster-signing-key-file={p / 'ca.key'}",
                f"--service-cluster-ip-range={spec.service_cidr}",
                "--use-service-account-credentials=true",
                "--controllers=*,bootstrapsigner,tokencleaner",
                # kwok renews simulated nodes' leases; on a busy machine one can come after the
                # default 50 s, and the pods the lifecycle controller then marks NotReady are never
                # marked Ready again by kwok (a real kubelet would): simulation gets more slack
                "--node-monitor-grace-period=5m",
                f"--cluster-name={lc.ref.name}",
            ]
        return [binary, *common, f"--secure-port={ports['scheduler']}"]

    async def _restart(self, lc: LocalCluster, component: str, version: str) -> None:
        argv = self._argv(lc, component, version)
        old = lc.pids().get(component)
        if old is not None:
            await procs.stop(old)
        pid = procs.start(component, argv, log_dir=lc.log_dir)
        lc.set_pid(component, pid)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.ready_timeout
        while not await self._component_ok(lc, component):
            if not procs.alive(pid):
                raise StepFailed(f"{component} exited:\n{procs.log_tail(lc.log_dir / f'{component}.log')}")
            if loop.time() > deadline:
                raise TimeoutError(
                    f"{component} not healthy after {self.ready_timeout:.0f}s:\n"
                    + procs.log_tail(lc.log_dir / f"{component}.log")
                )
            await asyncio.sleep(0.2)

    def _admin_tls(self, lc: LocalCluster) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cafile=str(lc.pki_dir / "ca.crt"))
        ctx.load_cert_chain(lc.pki_dir / "admin.crt", lc.pki_dir / "admin.key")
        return ctx

    async def _component_ok(self, lc: LocalCluster, component: str) -> bool:
        ports = lc.ports()
        if component == "etcd":
            return await procs.http_ok(f"http://127.0.0.1:{ports['etcd_metrics']}/health")
        if component == "kube-apiserver":
            return await procs.http_ok(f"{lc.server}/readyz", tls=self._admin_tls(lc))
        if component == "kwok":
            return await procs.http_ok(f"http://127.0.0.1:{ports['kwok']}/healthz")
        port = ports["controller_manager" if component == "kube-controller-manager" else "scheduler"]
        insecure = ssl.create_default_context()
        insecure.check_hostname = False
        insecure.verify_mode = ssl.CERT_NONE
        return await procs.http_ok(f"https://127.0.0.1:{port}/healthz", tls=insecure)

    # --- health, access -------------------------------------------------------
    async def health(self, ref: ClusterRef) -> ControlPlaneHealth:
        return await self._health(self.cluster(ref))

    async def _health(self, lc: LocalCluster) -> ControlPlaneHealth:
        components: dict[str, str] = {}
        pids = lc.pids()
        for component in self._wanted():
            pid = pids.get(component)
            if pid is None or not procs.alive(pid):
                components[component] = "not running"
            elif await self._component_ok(lc, component):
                components[component] = "Available"
            else:
                components[component] = "unhealthy"
        return ControlPlaneHealth(all(s == "Available" for s in components.values()), components)

    def _write_kubeconfigs(self, lc: LocalCluster, pki: ClusterPki) -> None:
        for user in ("admin", "controller-manager", "scheduler"):
            path = lc.kubeconfig_path(user)
            path.write_text(yaml.safe_dump(pki.kubeconfig(server=lc.server, user=user)))
            path.chmod(0o600)

    async def admin_kubeconfig(self, ref: ClusterRef) -> dict[str, Any]:
        path = self.cluster(ref).kubeconfig_path("admin")
        if not path.exists():
            raise StepFailed(f"cluster {ref.name} has no admin kubeconfig yet")
        doc: dict[str, Any] = yaml.safe_load(path.read_text())
        return doc

    async def join_server(self, ref: ClusterRef) -> str:
        return self.cluster(ref).server

    async def tenant_client(self, ref: ClusterRef) -> ApiClient:
        return await new_client_from_config_dict(await self.admin_kubeconfig(ref))

    def peak_rss_bytes(self, ref: ClusterRef) -> dict[str, int]:
        return {c: procs.peak_rss_bytes(pid) for c, pid in self.cluster(ref).pids().items()}

    # --- certificates ---------------------------------------------------------
    async def renew_certificates(self, ref: ClusterRef) -> list[str]:
        lc = self.cluster(ref)
        pki = self._require_pki(lc)
        renewed = pki.renew_expiring(now=_now())
        if renewed:
            await self._roll(lc, pki)
        return renewed

    async def rotate_ca(self, ref: ClusterRef, *, phase: str) -> list[str]:
        lc = self.cluster(ref)
        pki = self._require_pki(lc)
        if phase == "start":
            changed = pki.start_ca_rotation(now=_now())
        else:
            pki.complete_ca_rotation()
            changed = ["ca", "front-proxy-ca", "etcd-ca"]
        await self._roll(lc, pki)
        return changed

    def _require_pki(self, lc: LocalCluster) -> ClusterPki:
        pki = lc.load_pki()
        if pki is None:
            raise StepFailed(f"cluster {lc.ref.name} has no PKI")
        return pki

    async def _roll(self, lc: LocalCluster, pki: ClusterPki) -> None:
        lc.save_pki(pki)
        self._write_kubeconfigs(lc, pki)
        version = lc.ref.spec.version
        running = [c for c in self._wanted() if c in lc.pids()]
        # Stop clients before servers (a server with live clients drains slowly), then start in order:
        # a short outage of a local control plane instead of a slow rolling restart.
        for component in reversed(running):
            await procs.stop(lc.pids()[component])
            lc.set_pid(component, None)
        for component in running:
            await self._restart(lc, component, version)
