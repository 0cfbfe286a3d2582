"""Every route points at an op the schema defines, and a gateway whose routes do not refuses to serve."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import berth_schema
import pytest
from berth_common.events import registry
from berth_common.runtime import ServiceSettings
from berth_gateway.app import bootstrap
from berth_gateway.routes import ROUTES, Route
from berth_gateway.schema_check import has_command, needed, route_problems
from berth_gateway.settings import GatewaySettings
from berth_schema import wiring
from berth_testkit.procs import free_port
from gwtest import Stack

_ = berth_schema.DOMAINS  # importing the schema registers every command and typed query


@pytest.mark.parametrize("route", ROUTES, ids=[f"{r.method} {r.path}" for r in ROUTES])
def test_route_points_at_an_op_of_the_schema(route: Route) -> None:
    service = route.service
    for kind, op in needed(route):
        if kind == "command":
            subject = f"berth.cmd.{service}.{op}"
            assert has_command(registry, service, op), f"no command {subject} in the schema"
            assert wiring.GATEWAY in wiring.publishers(subject, "command")
            assert wiring.consumers(subject, "command") == [service]
        else:
            assert registry.has_query(service, op), f"no typed query {service}.{op} in the schema"
            assert wiring.GATEWAY in wiring.askers(service, op)


def test_a_route_outside_the_schema_is_reported() -> None:
    bogus = Route(
        method="GET",
        path="/api/v1/x/{x}",
        kind="get",
        service="cluster-manager",
        op="no-such-op",
        role="viewer",
        tag="x",
        summary="x",
    )
    assert route_problems(registry, [bogus]) == ["GET /api/v1/x/{x}: no query cluster-manager.no-such-op in the schema"]


async def test_gateway_refuses_to_serve_and_readyz_says_why(stack: Stack, tmp_path: Path) -> None:
    bogus = Route(
        method="POST",
        path="/api/v1/x",
        kind="command",
        service="cluster-manager",
        op="no-such-verb",
        role="viewer",
        tag="x",
        summary="x",
    )
    api_port = free_port()
    app = bootstrap(GatewaySettings(port=api_port, insecure_http=True), routes=[bogus])
    settings = ServiceSettings(nats_url=stack.nats_url, store_url="memory://", data_dir=tmp_path, http_port=0)
    await app.start(settings)
    try:
        await asyncio.sleep(0.1)
        assert app.health is not None
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{app.health.bound_port}/readyz") as resp:
                body = await resp.json()
            assert resp.status == 503, body
            assert "berth.cmd.cluster-manager.no-such-verb" in body["checks"]["routes"]
            with pytest.raises(aiohttp.ClientConnectionError):
                async with http.get(f"http://127.0.0.1:{api_port}/healthz"):
                    pass
    finally:
        await app.stop()


async def test_gateway_serves_when_every_route_is_in_the_schema(stack: Stack, tmp_path: Path) -> None:
    commands = [r for r in ROUTES if r.kind == "command"]
    assert not route_problems(registry, commands)
    api_port = free_port()
    app = bootstrap(GatewaySettings(port=api_port, insecure_http=True), routes=commands)
    settings = ServiceSettings(nats_url=stack.nats_url, store_url="memory://", data_dir=tmp_path, http_port=0)
    await app.start(settings)
    try:
        await asyncio.sleep(0.1)
        assert app.health is not None
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{app.health.bound_port}/readyz") as resp:
                body = await resp.json()
            assert resp.status == 200 and body["checks"]["routes"] == "ok", body
            async with http.get(f"http://127.0.0.1:{api_port}/healthz") as resp:
                assert resp.status == 200
    finally:
        await app.stop()
