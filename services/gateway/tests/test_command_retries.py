"""Issue 17: Idempotency-Key is scoped by tenant and user; a command answered 503 stays
trackable, and its retry (same Idempotency-Key, or the one the answer names) never applies the
command twice (the envelope id follows the operation; JetStream deduplicates by Nats-Msg-Id)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from berth_common.bus import DeadLetter
from berth_common.events import Envelope
from berth_common.store import MemoryStore
from berth_gateway.backend import Backend
from berth_gateway.context import Gateway
from berth_gateway.http import TRACKER_KEY, build_app
from gwtest import ADMIN_TOKEN, Stack, settings


async def test_the_same_key_in_another_tenant_is_another_request(stack: Stack) -> None:
    key = {"Idempotency-Key": "shared-key-1"}
    s1, r1 = await stack.call("POST", "/api/v1/clusters?tenant=acme", json={"name": "idem-x"}, headers=key)
    s2, r2 = await stack.call("POST", "/api/v1/clusters?tenant=globex", json={"name": "idem-x"}, headers=key)
    assert s1 == s2 == 202, (r1, r2)
    assert r1["operation"]["id"] != r2["operation"]["id"]
    assert r2["operation"]["tenant"] == "globex"
    # and another user's key in the same tenant is theirs alone
    ada = await stack.user_token("idem-ada", tenant="acme", role="tenant-admin")
    s3, r3 = await stack.call("POST", "/api/v1/clusters?tenant=acme", token=ada, json={"name": "idem-x"}, headers=key)
    assert s3 == 202 and r3["operation"]["id"] not in (r1["operation"]["id"], r2["operation"]["id"])
    for _ in range(100):
        if {("acme", "idem-x"), ("globex", "idem-x")} <= set(stack.world.create_commands):
            break
        await asyncio.sleep(0.05)
    assert {c["tenant"] for c in stack.world.clusters if c["name"] == "idem-x"} == {"acme", "globex"}


class FlakyBackend:
    """The real bus backend whose publishing fails on demand: ``lost-ack`` publishes and then
    raises (the ack never came), ``down`` raises without publishing."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.mode = ""

    async def query(self, service: str, op: str, payload: dict[str, Any], *, within: float) -> Any:
        return await self.inner.query(service, op, payload, within=within)

    async def send(self, env: Envelope) -> None:
        if self.mode == "down":
            raise ConnectionError("nats: connection closed")
        await self.inner.send(env)
        if self.mode == "lost-ack":
            raise TimeoutError("nats: timeout waiting for the ack")

    def events(self, *, subjects: Sequence[str], start_seq: int | None) -> AsyncIterator[tuple[int, Envelope]]:
        return self.inner.events(subjects=subjects, start_seq=start_seq)

    def dead_letters(self) -> AsyncIterator[DeadLetter]:
        return self.inner.dead_letters()


@pytest.fixture(params=[True, False], ids=["tracked", "untracked"])
async def flaky(stack: Stack, request: pytest.FixtureRequest) -> AsyncIterator[tuple[TestServer, FlakyBackend]]:
    """A gateway on a flaky bus; untracked: no fact reaches its operations, so a retry re-sends."""
    backend = FlakyBackend(stack.gateway.backend)
    g = Gateway.build(backend=backend, store=MemoryStore(), registry=stack.gateway.registry, settings=settings())
    app = build_app(g, track_operations=request.param)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server, backend
    await server.close()
    if request.param:
        await app[TRACKER_KEY].stop()


async def _create(stack: Stack, server: TestServer, name: str, headers: dict[str, str]) -> tuple[int, Any, Any]:
    url = str(server.make_url("/api/v1/clusters?tenant=acme"))
    auth = {"Authorization": f"Bearer {ADMIN_TOKEN}", **headers}
    async with stack.http.post(url, json={"name": name}, headers=auth) as resp:
        return resp.status, await resp.json(), resp.headers


async def _handled(stack: Stack, name: str) -> int:
    await asyncio.sleep(0.5)  # time for a duplicate to arrive, were there one
    return stack.world.create_commands.count(("acme", name))


async def test_a_lost_ack_answers_503_with_the_operation_and_the_retry_applies_once(
    stack: Stack, flaky: tuple[TestServer, FlakyBackend]
) -> None:
    server, backend = flaky
    name = f"lost-ack-{id(backend) % 10_000}"
    backend.mode = "lost-ack"
    status, body, headers = await _create(stack, server, name, {"Idempotency-Key": f"k-{name}"})
    assert status == 503 and body["operation"]["id"].startswith("op-"), body
    op_id = body["operation"]["id"]
    assert headers["Location"] == f"/api/v1/operations/{op_id}" and headers["Idempotency-Key"] == f"k-{name}"
    assert "may have been" in body["detail"] and body["operation"]["state"] == "pending"
    backend.mode = ""
    status, body, _ = await _create(stack, server, name, {"Idempotency-Key": f"k-{name}"})
    assert status == 202 and body["operation"]["id"] == op_id, body
    assert await _handled(stack, name) == 1
    # a replay of the stored answer, not a third command
    status, body, _ = await _create(stack, server, name, {"Idempotency-Key": f"k-{name}"})
    assert status == 202 and body["operation"]["id"] == op_id
    assert await _handled(stack, name) == 1


async def test_without_a_key_the_503_names_one_whose_retry_is_safe(
    stack: Stack, flaky: tuple[TestServer, FlakyBackend]
) -> None:
    server, backend = flaky
    name = f"bus-down-{id(backend) % 10_000}"
    backend.mode = "down"
    status, body, headers = await _create(stack, server, name, {})
    assert status == 503, body
    key, op_id = headers["Idempotency-Key"], body["operation"]["id"]
    assert key in body["detail"] and headers["Retry-After"]
    url = str(server.make_url(headers["Location"]))
    async with stack.http.get(url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as resp:
        op = await resp.json()
        assert resp.status == 200 and op["state"] == "pending" and key in op["message"], op
    backend.mode = ""
    status, body, _ = await _create(stack, server, name, {"Idempotency-Key": key})
    assert status == 202 and body["operation"]["id"] == op_id, body
    assert await _handled(stack, name) == 1
