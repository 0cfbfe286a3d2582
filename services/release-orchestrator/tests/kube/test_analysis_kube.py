"""Metric analysis against a real Prometheus scraping an error-rate gauge the test controls."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest_asyncio
from aiohttp import web
from berth_release_orchestrator.adapters.prometheus import instant
from berth_release_orchestrator.domain.manifests import NGINX
from berth_schema.release import AnalysisFailed, AnalysisPassed, ReleaseRolledBack
from berth_testkit.monitoring import Prometheus
from berth_testkit.procs import free_port

from .conftest import Rig


class ErrorRate:
    """A /metrics endpoint with one gauge, ``canary_error_rate{app="web"}``."""

    def __init__(self) -> None:
        self.value = 0.0
        self.port = free_port()
        self.runner: web.AppRunner | None = None

    async def metrics(self, request: web.Request) -> web.Response:
        body = f'# TYPE canary_error_rate gauge\ncanary_error_rate{{app="web"}} {self.value}\n'
        return web.Response(text=body, content_type="text/plain")

    async def start(self) -> ErrorRate:
        app = web.Application()
        app.router.add_get("/metrics", self.metrics)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        return self

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


@pytest_asyncio.fixture(loop_scope="session")
async def error_rate() -> AsyncIterator[ErrorRate]:
    er = await ErrorRate().start()
    yield er
    await er.stop()


@pytest_asyncio.fixture(loop_scope="session")
async def prom(prometheus_factory: Callable[..., Prometheus], error_rate: ErrorRate) -> Prometheus:
    p = prometheus_factory(scrape_targets={"canary": [f"127.0.0.1:{error_rate.port}"]})
    await until_scraped(p.url, error_rate.value)
    return p


async def until_scraped(url: str, value: float, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    async with aiohttp.ClientSession() as s:
        while True:
            got = await instant(s, url, 'max(canary_error_rate{app="web"})')
            if got is not None and abs(got - value) < 1e-9:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"Prometheus at {url} did not scrape canary_error_rate={value} (last {got})")
            await asyncio.sleep(0.3)


def canary(prom_url: str) -> dict[str, Any]:
    analysis = {
        "query": 'max(canary_error_rate{app="{{app}}"})',
        "success_condition": "result < 0.05",
        "interval_seconds": 1,
        "count": 3,
        "failure_limit": 0,
        "prometheus_url": prom_url,
    }
    return {"kind": "canary", "steps": [{"set_weight": 20}, {"analysis": analysis}, {"set_weight": 60}]}


async def test_passing_analysis_lets_the_canary_promote(rig: Rig, prom: Prometheus, error_rate: ErrorRate) -> None:
    error_rate.value = 0.01
    await until_scraped(prom.url, 0.01)
    await rig.create(image="registry.local/web:1.0", strategy=canary(prom.url))
    await rig.until(lambda r: r.phase == "promoted")
    await rig.create(image="registry.local/web:2.0", strategy=canary(prom.url))
    rel = await rig.until(lambda r: r.phase == "promoted", within=90, what="promoted after analysis")
    passed = [f for f in rig.facts if isinstance(f, AnalysisPassed)]
    assert len(passed) == 1 and passed[0].measurements == [0.01, 0.01, 0.01]
    assert passed[0].query == 'max(canary_error_rate{app="web"})'
    assert rel.analysis_runs[0].status == "passed" and len(rel.analysis_runs[0].measurements) == 3
    assert await rig.image_of("web") == "registry.local/web:2.0"


async def test_failing_analysis_rolls_back_automatically(rig: Rig, prom: Prometheus, error_rate: ErrorRate) -> None:
    error_rate.value = 0.01
    await until_scraped(prom.url, 0.01)
    await rig.create(image="registry.local/web:1.0", strategy=canary(prom.url))
    await rig.until(lambda r: r.phase == "promoted")
    error_rate.value = 0.4  # the new version fails
    await until_scraped(prom.url, 0.4)
    await rig.create(image="registry.local/web:2.0", strategy=canary(prom.url))
    rel = await rig.until(lambda r: r.phase == "rolled-back", within=90, what="automatic rollback")
    failed = [f for f in rig.facts if isinstance(f, AnalysisFailed)]
    assert len(failed) == 1 and failed[0].measurements == [0.4] and "result < 0.05" in failed[0].reason
    rolled = [f for f in rig.facts if isinstance(f, ReleaseRolledBack)]
    assert len(rolled) == 1 and rolled[0].reason.startswith("analysis failed")
    assert rolled[0].image == "registry.local/web:1.0" and rolled[0].revision == 2
    assert rel.weight == 0 and rel.steps[-1].status == "skipped"
    ann = await rig.annotations("web-canary")
    assert ann[NGINX + "canary-weight"] == "0"
    assert await rig.replicas("web-canary") == 0
    assert await rig.image_of("web") == "registry.local/web:1.0"
    assert "weight-changed" in rig.fact_names() and "promoted" not in rig.fact_names()[3:]
