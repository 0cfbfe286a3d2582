"""Node operations on a real API server: create (kwok-simulated) nodes from a pool, delete, list,
cordon/uncordon, and labels/taints patched in place, in bulk, without replacing nodes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any

from berth_schema.node.labels import RESERVED_LABELS, Taint, check_labels, merge_taints
from kubernetes_asyncio import client as k8s
from kubernetes_asyncio.client import ApiClient

from ..domain.nodes import node_status
from .rawapi import MERGE_PATCH, KubeError, call_json

BULK_CONCURRENCY = 16


class KubeNodes:
    def __init__(self, api: ApiClient) -> None:
        self.api = api
        self.core = k8s.CoreV1Api(api)

    async def list(self, *, label_selector: str = "") -> list[dict[str, Any]]:
        data = await call_json(self.core.list_node, label_selector=label_selector)
        items: list[dict[str, Any]] = data.get("items", [])
        return items

    async def get(self, name: str) -> dict[str, Any] | None:
        try:
            return await call_json(self.core.read_node, name)
        except KubeError as exc:
            if exc.status == 404:
                return None
            raise

    async def create(self, manifest: Mapping[str, Any]) -> dict[str, Any]:
        return await call_json(self.core.create_node, dict(manifest))

    async def delete(self, name: str) -> bool:
        """Delete a node; False when it was already gone."""
        try:
            await call_json(self.core.delete_node, name)
            return True
        except KubeError as exc:
            if exc.status == 404:
                return False
            raise

    async def wait_ready(self, name: str, *, within: float = 60.0, interval: float = 0.2) -> dict[str, Any]:
        deadline = time.monotonic() + within
        while True:
            node = await self.get(name)
            if node is not None and node_status(node) == "Ready":
                return node
            if time.monotonic() > deadline:
                raise TimeoutError(f"node {name} did not become Ready within {within:g}s")
            await asyncio.sleep(interval)

    async def wait_gone(self, name: str, *, within: float = 60.0, interval: float = 0.2) -> None:
        deadline = time.monotonic() + within
        while await self.get(name) is not None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"node {name} still exists after {within:g}s")
            await asyncio.sleep(interval)

    async def set_unschedulable(self, name: str, unschedulable: bool) -> dict[str, Any]:
        """Cordon (True) or uncordon (False)."""
        return await call_json(
            self.core.patch_node, name, {"spec": {"unschedulable": unschedulable or None}}, _content_type=MERGE_PATCH
        )

    async def patch_labels(
        self, name: str, *, set_labels: Mapping[str, str], remove: Iterable[str] = (), allow_reserved: bool = False
    ) -> dict[str, Any]:
        check_labels(dict(set_labels), allow_reserved=allow_reserved)
        removed = list(remove)
        if not allow_reserved and (bad := [k for k in removed if k in RESERVED_LABELS]):
            raise ValueError(f"remove[{bad[0]}]: this label is managed by node-manager and cannot be removed")
        labels: dict[str, str | None] = {**dict.fromkeys(removed), **set_labels}
        return await call_json(self.core.patch_node, name, {"metadata": {"labels": labels}}, _content_type=MERGE_PATCH)

    async def annotate(self, name: str, annotations: Mapping[str, str]) -> dict[str, Any]:
        patch = {"metadata": {"annotations": dict(annotations)}}
        return await call_json(self.core.patch_node, name, patch, _content_type=MERGE_PATCH)

    async def patch_taints(
        self, name: str, *, add: Iterable[Taint] = (), remove_keys: Iterable[str] = (), attempts: int = 5
    ) -> dict[str, Any]:
        """Read-modify-write of spec.taints guarded by resourceVersion (409 -> re-read and retry)."""
        adding, removing = list(add), list(remove_keys)
        for attempt in range(attempts):
            node = await call_json(self.core.read_node, name)
            current = [Taint.from_kube(t) for t in node.get("spec", {}).get("taints") or []]
            taints = [t.to_kube() for t in merge_taints(current, adding, removing)]
            patch = {"metadata": {"resourceVersion": node["metadata"]["resourceVersion"]}, "spec": {"taints": taints}}
            try:
                return await call_json(self.core.patch_node, name, patch, _content_type=MERGE_PATCH)
            except KubeError as exc:
                if exc.status != 409 or attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")


async def in_bulk(
    names: Iterable[str], op: Callable[[str], Awaitable[Any]], *, concurrency: int = BULK_CONCURRENCY
) -> dict[str, str]:
    """Run ``op`` on every node with bounded concurrency; returns the error text per failed node."""
    sem = asyncio.Semaphore(concurrency)
    errors: dict[str, str] = {}

    async def one(name: str) -> None:
        async with sem:
            try:
                await op(name)
            except (KubeError, ValueError) as exc:
                errors[name] = str(exc)

    await asyncio.gather(*(one(n) for n in names))
    return errors
