"""Drain a node through the Eviction API (policy/v1 Eviction subresource): cordon, evict every
evictable pod concurrently, retry evictions a PodDisruptionBudget refuses (429) until the deadline,
wait for evicted pods to disappear, and report each pod."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from kubernetes_asyncio import client as k8s
from kubernetes_asyncio.client import ApiClient

from ..domain.clock import Clock, SystemClock
from ..domain.drain import DrainOptions, DrainProgress, DrainReport, PodRef, plan_drain, pod_ref
from .nodes import KubeNodes
from .rawapi import KubeError, call_json

EVICT_CONCURRENCY = 50
POLL_SECONDS = 0.1


async def pods_on(core: k8s.CoreV1Api, node: str) -> list[dict[str, Any]]:
    data = await call_json(core.list_pod_for_all_namespaces, field_selector=f"spec.nodeName={node}")
    items: list[dict[str, Any]] = data.get("items", [])
    return items


async def drain_node(
    api: ApiClient,
    node: str,
    options: DrainOptions,
    *,
    clock: Clock | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> DrainReport:
    clock = clock or SystemClock()
    core = k8s.CoreV1Api(api)
    await KubeNodes(api).set_unschedulable(node, True)
    pods = await pods_on(core, node)
    plan = plan_drain(node, pods, options)
    progress = DrainProgress(plan, clock.now(), options)
    if plan.refused:
        return progress.report(clock.now())
    uids = {pod_ref(p): p["metadata"].get("uid") for p in pods}
    sem = asyncio.Semaphore(EVICT_CONCURRENCY)

    async def evict(ref: PodRef) -> None:
        body: dict[str, Any] = {
            "apiVersion": "policy/v1",
            "kind": "Eviction",
            "metadata": {"name": ref.name, "namespace": ref.namespace},
        }
        delete_options: dict[str, Any] = {"preconditions": {"uid": uids[ref]}} if uids.get(ref) else {}
        if options.grace_period_seconds is not None:
            delete_options["gracePeriodSeconds"] = options.grace_period_seconds
        if delete_options:
            body["deleteOptions"] = delete_options
        async with sem:
            try:
                await call_json(core.create_namespaced_pod_eviction, ref.name, ref.namespace, body)
                progress.accepted(ref)
            except KubeError as exc:
                if exc.status == 404 or (exc.status == 409 and "uid" in exc.message.lower()):
                    progress.gone(ref)  # already deleted (or replaced by a new pod of the same name)
                elif exc.status == 429 or exc.status >= 500:
                    progress.blocked(ref, clock.now(), exc.message or f"eviction refused ({exc.status})")
                else:
                    progress.failed(ref, str(exc))

    while True:
        due = progress.due(clock.now())
        if due:
            await asyncio.gather(*(evict(ref) for ref in due))
        if progress.waiting():
            present = {pod_ref(p): p["metadata"].get("uid") for p in await pods_on(core, node)}
            for ref in progress.waiting():
                if ref not in present or present[ref] != uids.get(ref):
                    progress.gone(ref)
        if progress.finished or progress.timed_out(clock.now()):
            return progress.report(clock.now())
        await sleep(POLL_SECONDS)
