"""A node watch that resumes from the last resourceVersion and relists on 410 Gone."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Literal

from kubernetes_asyncio import client as k8s
from kubernetes_asyncio import watch
from kubernetes_asyncio.client import ApiClient
from kubernetes_asyncio.client.exceptions import ApiException

from .rawapi import call_json

log = logging.getLogger(__name__)
EventType = Literal["RELISTED", "ADDED", "MODIFIED", "DELETED"]


@dataclass(frozen=True, slots=True)
class NodeEvent:
    type: EventType
    node: dict[str, Any]  # for RELISTED, {"items": [...]} : the full current list
    resource_version: str


async def watch_nodes(
    api: ApiClient,
    *,
    resource_version: str | None = None,
    label_selector: str = "",
    timeout_seconds: int = 240,
) -> AsyncIterator[NodeEvent]:
    """Yield node changes forever. Without a resourceVersion (or after 410 Gone) it lists first and
    yields one RELISTED event with every node; then it watches from the list's resourceVersion,
    reconnecting from the last seen one when the server ends the watch."""
    core = k8s.CoreV1Api(api)
    rv = resource_version
    while True:
        if rv is None:
            listed = await call_json(core.list_node, label_selector=label_selector)
            rv = str(listed["metadata"]["resourceVersion"])
            yield NodeEvent("RELISTED", {"items": listed.get("items", [])}, rv)
        stream = watch.Watch(return_type="object")
        try:
            async with stream.stream(
                core.list_node,
                resource_version=rv,
                label_selector=label_selector,
                timeout_seconds=timeout_seconds,
                allow_watch_bookmarks=True,
            ) as events:
                async for ev in events:
                    obj = ev["raw_object"]
                    rv = str(obj.get("metadata", {}).get("resourceVersion") or rv)
                    if ev["type"] in ("ADDED", "MODIFIED", "DELETED"):
                        yield NodeEvent(ev["type"], obj, rv)
        except ApiException as exc:
            if exc.status == 410:
                log.info("node watch expired (410 Gone); relisting")
                rv = None
                continue
            raise
        except TimeoutError:
            continue
