"""Prometheus and Alertmanager are real: a rule fires, Alertmanager posts a v4 webhook."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from berth_testkit.monitoring import Alertmanager, Prometheus


class Receiver:
    def __init__(self) -> None:
        self.payloads: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        await self.payloads.put(await request.json())
        return web.Response()


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    recv = Receiver()
    app = web.Application()
    app.router.add_post("/hooks/alertmanager", recv.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    recv.url = f"http://127.0.0.1:{port}/hooks/alertmanager"
    yield recv
    await runner.cleanup()


async def test_alertmanager_posts_a_version_4_webhook(
    alertmanager_factory: Callable[..., Alertmanager], receiver: Receiver
) -> None:
    am = alertmanager_factory(webhook_urls=[receiver.url])
    alert = {
        "labels": {"alertname": "NodeDown", "cluster": "prod", "severity": "critical"},
        "annotations": {"summary": "node-1 is down"},
    }
    async with aiohttp.ClientSession() as http, http.post(f"{am.url}/api/v2/alerts", json=[alert]) as resp:
        assert resp.status == 200
    payload = await asyncio.wait_for(receiver.payloads.get(), timeout=30)
    assert payload["version"] == "4"
    assert payload["status"] == "firing"
    assert payload["receiver"] == "berth"
    assert payload["groupLabels"] == {"alertname": "NodeDown"}
    [got] = payload["alerts"]
    assert got["labels"]["cluster"] == "prod"
    assert got["annotations"]["summary"] == "node-1 is down"
    assert len(got["fingerprint"]) == 16


async def test_prometheus_rule_fires_through_alertmanager(
    prometheus_factory: Callable[..., Prometheus],
    alertmanager_factory: Callable[..., Alertmanager],
    receiver: Receiver,
) -> None:
    am = alertmanager_factory(webhook_urls=[receiver.url])
    prom = prometheus_factory(
        alertmanagers=[am.url],
        rule_groups=[
            {
                "name": "berth",
                "rules": [
                    {"alert": "PrometheusUp", "expr": 'up{job="prometheus"} == 1', "labels": {"severity": "info"}},
                ],
            }
        ],
    )
    query = {"query": "vector(42)"}
    async with aiohttp.ClientSession() as http, http.get(f"{prom.url}/api/v1/query", params=query) as resp:
        body = await resp.json()
        assert body["data"]["result"][0]["value"][1] == "42"
    payload = await asyncio.wait_for(receiver.payloads.get(), timeout=60)
    assert payload["version"] == "4"
    assert payload["alerts"][0]["labels"]["alertname"] == "PrometheusUp"
    assert payload["alerts"][0]["generatorURL"].startswith("http://")
