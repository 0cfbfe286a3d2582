"""A release rig on the real kube_cluster (API server, controllers, scheduler, kwok nodes):
the runner with an in-memory store, driven tick by tick."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import pytest_asyncio
from berth_common.store import MemoryStore, Store
from berth_release_orchestrator import state
from berth_release_orchestrator.adapters.clusters import Clusters
from berth_release_orchestrator.adapters.kube import Workloads
from berth_release_orchestrator.config import Deps, ReleaseSettings
from berth_release_orchestrator.domain.release import Release, begin_rollback, new_revision, promote
from berth_release_orchestrator.domain.strategy import parse_strategy
from berth_release_orchestrator.domain.workload import build_workload
from berth_release_orchestrator.runner import Runner
from berth_testkit.kube import KubeCluster
from kubernetes_asyncio import client as k8s
from pydantic import BaseModel

WEB: dict[str, Any] = {"replicas": 4, "ingress": {"host": "my-app.com"}, "ports": [{"container_port": 8080}]}


@dataclass
class Rig:
    runner: Runner
    store: Store
    wl: Workloads
    namespace: str
    facts: list[BaseModel]

    @property
    def col(self) -> Any:
        return self.store.collection(state.RELEASES)

    async def get(self, name: str = "web") -> Release:
        rel = state.load_release(await self.col.get(state.key("t1", name)))
        assert rel is not None
        return rel

    async def _write(self, name: str, change: Callable[[Release | None], tuple[Release, list[BaseModel]]]) -> Release:
        rec = await self.col.get(state.key("t1", name))
        rel, facts = change(state.load_release(rec))
        self.facts.extend(facts)
        if rec is None:
            await self.col.create(state.key("t1", name), state.release_doc(rel))
        else:
            await self.col.replace(state.key("t1", name), state.release_doc(rel), expected_version=rec.version)
        return rel

    async def create(self, *, image: str, strategy: dict[str, Any], name: str = "web", **workload: Any) -> Release:
        def change(prev: Release | None) -> tuple[Release, list[BaseModel]]:
            return new_revision(
                previous=prev,
                tenant="t1",
                name=name,
                cluster="c1",
                namespace=self.namespace,
                environment="prod",
                kind="workload",
                workload=build_workload({**WEB, **workload}, {"image": image}),
                manifests=[],
                strategy=parse_strategy(strategy),
                template=None,
                template_version=None,
                requested_by="test",
                correlationid=None,
                now=self.runner.deps.clock.now(),
                warnings=[],
            )

        return await self._write(name, change)

    async def promote(self, *, full: bool = False, name: str = "web") -> Release:
        def change(prev: Release | None) -> tuple[Release, list[BaseModel]]:
            assert prev is not None
            return prev, promote(prev, full=full, now=self.runner.deps.clock.now())

        return await self._write(name, change)

    async def rollback(self, reason: str, *, name: str = "web") -> Release:
        def change(prev: Release | None) -> tuple[Release, list[BaseModel]]:
            assert prev is not None
            begin_rollback(prev, reason=reason, aborted=False, now=self.runner.deps.clock.now())
            return prev, []

        return await self._write(name, change)

    async def until(
        self, done: Callable[[Release], bool], *, within: float = 60.0, name: str = "web", what: str = ""
    ) -> Release:
        """Tick the runner until ``done(release)``; collects the facts it published."""
        deadline = time.monotonic() + within
        col = self.col
        while True:
            rec = await col.get(state.key("t1", name))
            before = len(rec.outbox) if rec else 0
            await self.runner.tick(state.key("t1", name))
            rec = await col.get(state.key("t1", name))
            assert rec is not None
            from berth_common.events import Envelope, registry

            for raw in rec.outbox[before:]:
                self.facts.append(registry.payload(Envelope.model_validate(raw)))
            rel = Release.model_validate(rec.data)
            if done(rel):
                return rel
            if time.monotonic() > deadline:
                cur = rel.current
                seen = await self.runner._observe(rel, self.runner.deps.clock.now())
                pods = await k8s.CoreV1Api(self.wl.api).list_namespaced_pod(self.namespace)
                placed = [
                    (
                        p.metadata.name,
                        p.spec.node_name,
                        p.status.phase,
                        [(c.type, c.status, c.reason) for c in p.status.conditions or []],
                    )
                    for p in pods.items
                ]
                raise AssertionError(
                    f"{what or 'condition'} not reached in {within:g}s: phase {rel.phase}, "
                    f"step {cur.name if cur else None}, reason {rel.reason!r}, "
                    f"waiting on {seen.not_available}, pods {placed}"
                )
            await asyncio.sleep(0.2)

    async def at_step(self, kind: str, *, index: int | None = None, within: float = 60.0) -> Release:
        return await self.until(
            lambda r: (
                r.current is not None
                and r.current.kind == kind
                and (index is None or r.step_index == index)
                and r.active
            ),
            within=within,
            what=f"step {kind}",
        )

    def fact_names(self) -> list[str]:
        from berth_common.events import registry

        return [registry.spec_for(f).type.split(".")[2] for f in self.facts]

    async def annotations(self, name: str) -> dict[str, str]:
        ing = await self.wl.get("Ingress", name)
        assert ing is not None, f"Ingress {name} not found"
        return dict(ing["metadata"].get("annotations") or {})

    async def image_of(self, name: str) -> str:
        dep = await self.wl.get("Deployment", name)
        assert dep is not None, f"Deployment {name} not found"
        return str(dep["spec"]["template"]["spec"]["containers"][0]["image"])

    async def replicas(self, name: str) -> int:
        dep = await self.wl.get("Deployment", name)
        assert dep is not None, f"Deployment {name} not found"
        return int(dep["spec"]["replicas"])


@pytest_asyncio.fixture(loop_scope="session")
async def rig(kube_cluster: KubeCluster) -> AsyncIterator[Rig]:
    ns = f"ro{uuid.uuid4().hex[:6]}"
    async with kube_cluster.client() as api:
        await k8s.CoreV1Api(api).create_namespace({"metadata": {"name": ns}})  # type: ignore[arg-type]
    clusters = Clusters(kubeconfig=str(kube_cluster.kubeconfig_path))
    deps = Deps(settings=ReleaseSettings(tick_seconds=0.2), clusters=clusters)
    store = MemoryStore()
    runner = Runner(store, deps, wake_relay=lambda: None)
    wl = await clusters.workloads("t1", "c1", ns)
    yield Rig(runner=runner, store=store, wl=wl, namespace=ns, facts=[])
    await runner.close()
    async with kube_cluster.client() as api:
        await k8s.CoreV1Api(api).delete_namespace(ns)
    await clusters.close()
