"""The SSE event stream: tenant filter, cluster/type filters, Last-Event-ID resume."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import ClientResponse
from gwtest import Stack


async def _read_events(resp: ClientResponse, n: int, *, within: float = 10.0) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    current: dict[str, Any] = {}

    async def loop() -> None:
        nonlocal current
        async for raw in resp.content:
            line = raw.decode().rstrip("\n")
            if not line:
                if "data" in current:
                    events.append(current)
                    if len(events) >= n:
                        return
                current = {}
            elif not line.startswith(":"):
                k, _, v = line.partition(": ")
                current[k] = json.loads(v) if k == "data" else v

    await asyncio.wait_for(loop(), within)
    return events


async def test_sse_filters_by_tenant_and_cluster_and_resumes(stack: Stack) -> None:
    alice = await stack.user_token("sse-alice", tenant="acme", role="tenant-admin")
    bob = await stack.user_token("sse-bob", tenant="globex", role="tenant-admin")
    url = stack.url + "/api/v1/events"
    async with (
        stack.http.get(url, headers={"Authorization": f"Bearer {alice}"}) as a_all,
        stack.http.get(
            url + "?cluster=sse-a2&type=berth.cluster.running.v1", headers={"Authorization": f"Bearer {alice}"}
        ) as a_filtered,
    ):
        assert a_all.status == 200 and a_all.headers["Content-Type"].startswith("text/event-stream")
        await asyncio.sleep(0.3)  # the ordered consumers are in place
        for token, name in ((bob, "sse-b1"), (alice, "sse-a1"), (alice, "sse-a2")):
            status, body = await stack.call("POST", "/api/v1/clusters", token=token, json={"name": name})
            assert status == 202, body
        got = await _read_events(a_all, 6)
        assert {e["data"]["tenant"] for e in got} == {"acme"}
        # the two clusters' lifecycles run concurrently: only the per-cluster order is promised
        subjects = [e["data"]["subject"] for e in got]
        assert sorted(subjects) == ["clusters/sse-a1"] * 3 + ["clusters/sse-a2"] * 3
        for cluster in ("clusters/sse-a1", "clusters/sse-a2"):
            ids = [int(e["id"]) for e in got if e["data"]["subject"] == cluster]
            assert ids == sorted(ids)
        only = await _read_events(a_filtered, 1)
        assert only[0]["event"] == "berth.cluster.running.v1" and only[0]["data"]["subject"] == "clusters/sse-a2"
    # resume after the first event: the stream goes on with exactly the events that followed it
    first_id = int(got[0]["id"])
    async with stack.http.get(url, headers={"Authorization": f"Bearer {alice}", "Last-Event-ID": str(first_id)}) as r:
        again = await _read_events(r, 5)
    assert [int(e["id"]) for e in again] == [int(e["id"]) for e in got[1:]]
    status, body = await stack.call("GET", "/api/v1/events", token=alice, headers={"Last-Event-ID": "abc"})
    assert status == 400 and body["errors"][0]["field"] == "Last-Event-ID"
