"""Request/reply queries through nats.micro on berth.api.<service>.<op>."""

from __future__ import annotations

import collections
import json
from typing import Any

import pytest
from berth_common.bus import Bus, QueryError


async def test_request_reply_and_error_codes(kit: Any) -> None:
    server: Bus = await kit.connected()

    @server.query("info")
    async def info(request: dict[str, Any]) -> dict[str, Any]:
        return {"service": server.service, "echo": request}

    @server.query("lookup")
    async def lookup(request: dict[str, Any]) -> dict[str, Any]:
        if "name" not in request:
            raise QueryError(400, "name is required")
        raise QueryError(404, f"cluster {request['name']} not found")

    @server.query("boom")
    async def boom(request: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("secret=hunter2 leaked into an exception")

    await server.start()
    client: Bus = await kit.connected("client")
    assert await client.request(server.service, "info", {"x": 1}) == {
        "service": server.service,
        "echo": {"x": 1},
    }
    with pytest.raises(QueryError) as err:
        await client.request(server.service, "lookup", {})
    assert (err.value.code, err.value.detail) == (400, "name is required")
    with pytest.raises(QueryError) as err:
        await client.request(server.service, "lookup", {"name": "c1"})
    assert (err.value.code, err.value.detail) == (404, "cluster c1 not found")
    with pytest.raises(QueryError) as err:
        await client.request(server.service, "boom")
    assert err.value.code == 500 and "hunter2" not in err.value.detail
    with pytest.raises(QueryError) as err:
        await client.request(kit.service("nobody"), "info", timeout=1)
    assert err.value.code == 503

    # A body that is not a JSON object gets a 400 naming the problem.
    raw = await client.nc.request(f"berth.api.{server.service}.info", b"[1]", timeout=2)
    assert raw.headers is not None and raw.headers["Nats-Service-Error-Code"] == "400"

    # The micro service is discoverable like any nats.micro service.
    pong = await client.nc.request(f"$SRV.INFO.{server.service}", b"", timeout=2)
    endpoints = {e["name"]: e for e in json.loads(pong.data)["endpoints"]}
    assert endpoints["info"]["subject"] == f"berth.api.{server.service}.info"
    assert endpoints["info"]["queue_group"] == server.service


async def test_two_replicas_answer_in_a_queue_group(kit: Any) -> None:
    calls: collections.Counter[str] = collections.Counter()
    replicas: list[Bus] = [await kit.connected(), await kit.connected()]
    for name, bus in zip(("a", "b"), replicas, strict=True):

        def make(replica: str) -> Any:
            async def info(request: dict[str, Any]) -> dict[str, Any]:
                calls[replica] += 1
                return {"replica": replica}

            return info

        bus.query("info")(make(name))
        await bus.start()

    client: Bus = await kit.connected("client")
    replies = [await client.request(kit.service(), "info") for _ in range(60)]
    answers = collections.Counter(r["replica"] for r in replies)
    assert sum(calls.values()) == 60  # each request answered by exactly one replica
    assert answers == calls and answers["a"] > 0 and answers["b"] > 0, answers
