"""Drives a cluster's operation (create, upgrade, delete) step by step.

Each step is two store writes: "started", then "succeeded" (or "failed"), each carrying
its facts in the same write (outbox). The operation's progress lives in the cluster
document, so a redelivered command, a retry or a restarted service resumes at the step
that did not finish."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime

from berth_common.events import Envelope
from berth_common.store import Conflict, Record, Store
from berth_schema.cluster import (
    ClusterDeleted,
    ClusterFailed,
    ClusterRunning,
    ClusterStep,
    ClusterUpgraded,
)
from berth_schema.node import RegisterCluster, UpgradePools
from pydantic import BaseModel

from .domain.lifecycle import Cluster, OperationKind, Phase
from .providers import Providers, StepFailed
from .providers.base import ClusterRef
from .state import CLUSTERS, cluster_key, envelope

log = logging.getLogger(__name__)

Heartbeat = Callable[[], Awaitable[None]]
HEARTBEAT_SECONDS = 10.0


def now() -> datetime:
    return datetime.now(UTC)


def ref_of(cluster: Cluster) -> ClusterRef:
    return ClusterRef(tenant=cluster.tenant, name=cluster.name, spec=cluster.spec, cluster_id=cluster.id)


class OperationRunner:
    def __init__(self, store: Store, providers: Providers, *, wake: Callable[[], None] = lambda: None) -> None:
        self.store = store
        self.providers = providers
        self.wake = wake
        self._locks: dict[str, asyncio.Lock] = {}

    async def drive(
        self, tenant: str, name: str, *, cause: Envelope | None = None, heartbeat: Heartbeat | None = None
    ) -> Cluster | None:
        """Run the cluster's remaining steps; returns its final state (None once deleted)."""
        key = cluster_key(tenant, name)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            try:
                return await self._drive(key, cause=cause, heartbeat=heartbeat)
            except Conflict:
                # Someone else (another replica) moved the cluster on; they own the operation now.
                log.info("cluster %s changed under its runner; leaving the operation to the writer", key)
                rec = await self.store.collection(CLUSTERS).get(key)
                return Cluster.from_doc(rec.data) if rec else None

    async def _drive(self, key: str, *, cause: Envelope | None, heartbeat: Heartbeat | None) -> Cluster | None:
        col = self.store.collection(CLUSTERS)
        while True:
            rec = await col.get(key)
            if rec is None:
                return None
            cluster = Cluster.from_doc(rec.data)
            step = cluster.current_step
            if step is None or cluster.operation is None:
                return cluster
            operation = cluster.operation.kind
            version = cluster.operation.target_version or cluster.spec.version
            cluster.step_started(step, at=now())
            rec = await self._save(rec, cluster, [self._step_fact(cluster, operation, step, "started", "", cause)])
            extra: list[Envelope] = []
            try:
                async with _beating(heartbeat):
                    if step == "upgrade-node-pools":
                        cmd = UpgradePools(cluster=cluster.name, tenant=cluster.tenant, version=version)
                        extra.append(envelope(cmd, tenant=cluster.tenant, subject=_subject(cluster), cause=cause))
                        note = f"asked node-manager to upgrade the node pools to {version}"
                    else:
                        provider = self.providers.get(cluster.spec.provider)
                        note = await provider.run_step(ref_of(cluster), step, version=version)
            except (StepFailed, OSError, ValueError, RuntimeError) as exc:
                reason = str(exc) or type(exc).__name__
                log.warning("cluster %s: step %s failed: %s", key, step, reason.splitlines()[0])
                cluster.step_failed(step, at=now(), reason=reason)
                facts = [
                    self._step_fact(cluster, operation, step, "failed", reason, cause),
                    envelope(
                        ClusterFailed(
                            cluster=cluster.name,
                            cluster_id=cluster.id,
                            operation=operation.value,
                            step=step,
                            reason=reason,
                        ),
                        tenant=cluster.tenant,
                        subject=_subject(cluster),
                        cause=cause,
                    ),
                ]
                await self._save(rec, cluster, facts)
                return cluster
            phase = cluster.step_succeeded(step, at=now(), message=note)
            facts = [*extra, self._step_fact(cluster, operation, step, "succeeded", note, cause)]
            if cluster.operation is None:
                facts.append(self._finished_fact(cluster, operation, cause))
                if operation == OperationKind.CREATE:
                    facts.extend(await self.registration(cluster, cause=cause))
            if phase == Phase.DELETED:
                await col.delete(key, expected_version=rec.version, events=facts)
                self.wake()
                return cluster
            await self._save(rec, cluster, facts)

    async def registration(self, cluster: Cluster, *, cause: Envelope | None) -> list[Envelope]:
        """The register-cluster command telling node-manager to (re)read the tenant cluster's
        kubeconfig through ``get-kubeconfig`` (sent when the cluster is Running and again when its
        credentials change); the credentials themselves never go into the stream."""
        cmd = RegisterCluster(
            cluster=cluster.name,
            tenant=cluster.tenant,
            node_cidr=cluster.spec.subnet_cidr,
            simulated=cluster.spec.provider == "local",
        )
        return [envelope(cmd, tenant=cluster.tenant, subject=_subject(cluster), cause=cause)]

    async def _save(
        self, rec: Record, cluster: Cluster, events: list[Envelope], caused_by: str | None = None
    ) -> Record:
        col = self.store.collection(CLUSTERS)
        new = await col.replace(
            rec.key, cluster.to_doc(), expected_version=rec.version, events=events, caused_by=caused_by
        )
        self.wake()
        return new

    def _step_fact(
        self, cluster: Cluster, operation: OperationKind, step: str, result: str, message: str, cause: Envelope | None
    ) -> Envelope:
        fact = ClusterStep(
            cluster=cluster.name,
            cluster_id=cluster.id,
            operation=operation.value,
            step=step,
            result=result,
            message=message,
        )
        return envelope(fact, tenant=cluster.tenant, subject=_subject(cluster), cause=cause)

    def _finished_fact(self, cluster: Cluster, operation: OperationKind, cause: Envelope | None) -> Envelope:
        fact: BaseModel
        if operation == OperationKind.CREATE:
            fact = ClusterRunning(
                cluster=cluster.name,
                cluster_id=cluster.id,
                version=cluster.version or "",
                provider=cluster.spec.provider,
            )
        elif operation == OperationKind.UPGRADE:
            fact = ClusterUpgraded(cluster=cluster.name, cluster_id=cluster.id, version=cluster.version or "")
        else:
            fact = ClusterDeleted(cluster=cluster.name, cluster_id=cluster.id)
        return envelope(fact, tenant=cluster.tenant, subject=_subject(cluster), cause=cause)


def _subject(cluster: Cluster) -> str:
    return f"clusters/{cluster.name}"


@contextlib.asynccontextmanager
async def _beating(heartbeat: Heartbeat | None) -> AsyncIterator[None]:
    """Call ``heartbeat`` every few seconds while the body runs (JetStream in_progress)."""
    if heartbeat is None:
        yield
        return

    async def beat() -> None:
        while True:
            await asyncio.sleep(HEARTBEAT_SECONDS)
            with contextlib.suppress(Exception):
                await heartbeat()

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
