"""End to end with the REAL cluster-manager (local provider: etcd + kube-apiserver as local
processes): a cluster created from the console's form becomes Running on screen.

Runs on its own nats-server (nats_isolated), so the stub cluster-manager of the other gateway
tests never shares a consumer with the real one."""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestServer
from berth_common.bus import Bus
from berth_common.runtime.settings import ServiceSettings
from berth_common.store import MemoryStore
from berth_gateway.backend import BusBackend
from berth_gateway.context import Gateway
from berth_gateway.http import TRACKER_KEY, build_app
from gwtest import ADMIN_TOKEN, settings
from playwright.async_api import async_playwright, expect

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
async def real_stack(nats_isolated: Any, tmp_path: Path) -> AsyncIterator[str]:
    from berth_cluster_manager import handlers
    from berth_cluster_manager.app import app as cm
    from berth_cluster_manager.providers import Providers
    from berth_cluster_manager.providers.local import LocalProvider

    handlers.wiring.providers = Providers({"local": LocalProvider(tmp_path / "cm", ready_timeout=120)})
    await cm.start(
        ServiceSettings(nats_url=nats_isolated.url, data_dir=tmp_path / "cm", http_port=0, log_json=False),
        store=MemoryStore(),
    )
    bus = Bus(service="gateway")
    await bus.connect(servers=nats_isolated.url, max_wait=10)
    await bus.provision()
    gateway = Gateway.build(backend=BusBackend(bus), store=MemoryStore(), settings=settings(), registry=bus.registry)
    app = build_app(gateway)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("")).rstrip("/")
    finally:
        await server.close()
        await app[TRACKER_KEY].stop()
        await bus.close()
        await cm.stop()
        await _stop_local_clusters(tmp_path / "cm")


async def _stop_local_clusters(root: Path) -> None:
    """The local provider leaves a Running cluster's processes running (they outlive
    cluster-manager by design): stop those this test started."""
    from berth_cluster_manager.providers import local_procs

    for pids in (root / "clusters").glob("*/*/pids.json"):
        for pid in json.loads(pids.read_text()).values():
            if local_procs.alive(int(pid)) and local_procs.runs_under(int(pid), pids.parent):
                await local_procs.stop(int(pid))


@pytest.mark.slow
async def test_cluster_from_the_form_runs_with_the_real_cluster_manager(real_stack: str) -> None:
    if not shutil.which(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium (`apt-get install chromium`)")
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = await browser.new_page()
        await page.goto(real_stack + "/")
        await page.fill("#token", ADMIN_TOKEN)
        await page.fill("#tenant", "t1")
        await page.click("button[type=submit]")
        await expect(page.locator("h1")).to_have_text("Clusters")
        await page.click("#create-cluster")
        await page.fill("#f-name", "real-one")
        await page.check("input[name=provider][value=local]")
        await page.locator("#f-description").focus()
        await page.click("#submit-cluster")
        await expect(page.locator("#cluster-name")).to_have_text("real-one")
        await expect(page.locator("#cluster-status")).to_have_text("Running", timeout=180_000)
        await expect(page.locator("#timeline")).not_to_be_empty()
        await browser.close()
