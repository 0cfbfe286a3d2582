"""A joined node's identity on disk (a kubelet-style kubeconfig with its client certificate) and
the agent that registers the Node and keeps it alive: Ready heartbeats on its status and renewals
of its Lease in kube-node-lease, all as ``system:node:<name>`` (so NodeRestriction applies)."""

from __future__ import annotations

import asyncio
import json
import os
import ssl
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from cryptography import x509

from .discovery import JoinError
from .tls_bootstrap import renew_client_certificate

LEASE_SECONDS = 40  # kubelet's default node lease duration
ROTATE_AT = 0.8
KUBECONFIG = "kubelet.conf"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _now_micro() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class NodeIdentity:
    name: str
    server: str
    ca_pem: bytes
    cert_pem: bytes
    key_pem: bytes = field(repr=False)

    def save(self, directory: Path) -> Path:
        """Write ``pki/`` and ``kubelet.conf`` (0600, the key never leaves this machine)."""
        pki = directory / "pki"
        pki.mkdir(parents=True, exist_ok=True, mode=0o700)
        for fname, data in (("ca.crt", self.ca_pem), ("kubelet-client.crt", self.cert_pem)):
            (pki / fname).write_bytes(data)
        key = pki / "kubelet-client.key"
        fd = os.open(key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(self.key_pem)
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {"name": "default", "cluster": {"server": self.server, "certificate-authority": str(pki / "ca.crt")}}
            ],
            "users": [
                {
                    "name": "default",
                    "user": {
                        "client-certificate": str(pki / "kubelet-client.crt"),
                        "client-key": str(key),
                    },
                }
            ],
            "contexts": [{"name": "default", "context": {"cluster": "default", "user": "default"}}],
            "current-context": "default",
        }
        path = directory / KUBECONFIG
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            yaml.safe_dump(config, f)
        return path

    def tls(self, directory: Path) -> ssl.SSLContext:
        ctx = ssl.create_default_context(cadata=self.ca_pem.decode())
        ctx.load_cert_chain(directory / "pki" / "kubelet-client.crt", directory / "pki" / "kubelet-client.key")
        return ctx


@dataclass
class NodeSpec:
    """What the node reports about itself at registration."""

    cpu: int = 2
    memory_gib: int = 4
    max_pods: int = 110
    address: str = "127.0.0.1"
    labels: dict[str, str] = field(default_factory=dict)
    taints: list[dict[str, str]] = field(default_factory=list)
    kubelet_version: str = ""


class NodeAgent:
    def __init__(self, identity: NodeIdentity, directory: Path, spec: NodeSpec) -> None:
        self.identity = identity
        self.directory = directory
        self.spec = spec
        self._tls = identity.tls(directory)
        self._base = identity.server.rstrip("/")

    def rotation_due(self, *, now: datetime | None = None) -> bool:
        """Like kubelet: renew once 70-90% of the certificate's lifetime has passed (80% here)."""
        cert = x509.load_pem_x509_certificate(self.identity.cert_pem)
        start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
        return (now or datetime.now(UTC)) >= start + (end - start) * ROTATE_AT

    async def rotate(self) -> None:
        """A new key and certificate filed with the current one; saved, then used from the next call."""
        key, cert = await renew_client_certificate(self.identity.server, self._tls, self.identity.name)
        self.identity = replace(self.identity, key_pem=key, cert_pem=cert)
        self.identity.save(self.directory)
        self._tls = self.identity.tls(self.directory)

    async def _call(
        self, session: aiohttp.ClientSession, method: str, path: str, body: Any = None, *, content_type: str = ""
    ) -> tuple[int, Any]:
        headers = {"Accept": "application/json"}
        if content_type:
            headers["Content-Type"] = content_type
        data = None if body is None else json.dumps(body)
        if data is not None and not content_type:
            headers["Content-Type"] = "application/json"
        async with session.request(method, self._base + path, data=data, headers=headers, ssl=self._tls) as resp:
            payload = await resp.json(content_type=None) if resp.content_length != 0 else None
            return resp.status, payload

    def _ready(self) -> list[dict[str, str]]:
        now = _now()
        return [
            {
                "type": "Ready",
                "status": "True",
                "reason": "KubeletReady",
                "message": "berth node agent is posting ready status",
                "lastHeartbeatTime": now,
                "lastTransitionTime": now,
            }
        ]

    def manifest(self) -> dict[str, Any]:
        s, name = self.spec, self.identity.name
        capacity = {"cpu": str(s.cpu), "memory": f"{s.memory_gib}Gi", "pods": str(s.max_pods)}
        return {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": name,
                "labels": {
                    "kubernetes.io/hostname": name,
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": "amd64",
                    **s.labels,
                },
            },
            "spec": {"taints": s.taints} if s.taints else {},
            "status": {
                "capacity": capacity,
                "allocatable": capacity,
                "addresses": [{"type": "InternalIP", "address": s.address}, {"type": "Hostname", "address": name}],
                "nodeInfo": {"kubeletVersion": s.kubelet_version} if s.kubelet_version else {},
                "conditions": self._ready(),
            },
        }

    async def register(self) -> None:
        """Create the Node (or, on a rejoin, find it) and post a first heartbeat."""
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session:
            status, body = await self._call(session, "POST", "/api/v1/nodes", self.manifest())
            if status == 409:
                pass  # rejoining under the same name: the heartbeat below brings it back to Ready
            elif status not in (200, 201):
                raise JoinError(f"registering node {self.identity.name} failed ({status}): {_message(body)}")
            await self._beat(session)

    async def heartbeat(self) -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=15)) as session:
            await self._beat(session)

    async def _beat(self, session: aiohttp.ClientSession) -> None:
        name = self.identity.name
        patch = {"status": {"conditions": self._ready()}}
        status, body = await self._call(
            session,
            "PATCH",
            f"/api/v1/nodes/{name}/status",
            patch,
            content_type="application/strategic-merge-patch+json",
        )
        if status == 404:
            raise NodeGone(
                f"node {name} is no longer in the cluster (removed or scaled in): join again with a new token"
            )
        if status != 200:
            raise JoinError(f"heartbeat of node {name} failed ({status}): {_message(body)}")
        lease_path = f"/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{name}"
        renew = {"spec": {"holderIdentity": name, "leaseDurationSeconds": LEASE_SECONDS, "renewTime": _now_micro()}}
        status, body = await self._call(
            session, "PATCH", lease_path, renew, content_type="application/merge-patch+json"
        )
        if status == 404:
            lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease", "metadata": {"name": name}, **renew}
            status, body = await self._call(
                session, "POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases", lease
            )
        if status not in (200, 201):
            raise JoinError(f"renewing the lease of node {name} failed ({status}): {_message(body)}")

    async def run(self, *, interval: float = 10.0) -> None:
        """Heartbeat until cancelled (or the node is removed); a failed beat is retried next tick."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.heartbeat()
                if self.rotation_due():
                    await self.rotate()
                    print(f"node {self.identity.name}: client certificate renewed", flush=True)
            except NodeGone:
                raise
            except (JoinError, aiohttp.ClientError, TimeoutError) as exc:
                print(f"heartbeat failed, retrying: {exc}", flush=True)


class NodeGone(JoinError):
    """The Node object was deleted: this identity has nothing left to keep alive."""


def _message(body: Any) -> str:
    if isinstance(body, dict):
        return str(body.get("message") or body)
    return str(body)


def load_identity(directory: Path, name: str) -> NodeIdentity:
    """The identity ``berth node join`` saved in ``directory`` (to resume heartbeats after a restart)."""
    pki = directory / "pki"
    try:
        config = yaml.safe_load((directory / KUBECONFIG).read_text())
        return NodeIdentity(
            name=name,
            server=config["clusters"][0]["cluster"]["server"],
            ca_pem=(pki / "ca.crt").read_bytes(),
            cert_pem=(pki / "kubelet-client.crt").read_bytes(),
            key_pem=(pki / "kubelet-client.key").read_bytes(),
        )
    except (OSError, KeyError, IndexError, TypeError, yaml.YAMLError) as exc:
        raise JoinError(f"no joined node identity in {directory} ({exc}): run berth node join first") from None
