"""The gateway on the real nats-server, with stub services (see stubs.py) behind it."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from berth_common.bus import Bus
from berth_common.store import MemoryStore
from berth_gateway.backend import BusBackend
from berth_gateway.context import Gateway
from berth_gateway.http import TRACKER_KEY, build_app
from gwtest import Stack, settings
from stubs import StubWorld, stub_registry


async def _start_real_services(nats_url: str, data_dir: Path) -> list[Any]:
    """monitor-alert and registry-sync exist: run them in-process on the same NATS."""
    from berth_common.runtime.settings import ServiceSettings
    from berth_monitor_alert import handlers as ma_handlers
    from berth_registry_sync import handlers as rs_handlers
    from berth_registry_sync import scheduler  # noqa: F401  (declares itself on the app)

    apps = [ma_handlers.app, rs_handlers.app]
    for app in apps:
        settings = ServiceSettings(nats_url=nats_url, data_dir=data_dir / app.name, http_port=0)
        await app.start(settings, store=MemoryStore())
    return apps


@pytest.fixture(scope="session")
async def stack(nats_server: Any, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    registry = stub_registry()
    world = StubWorld(registry)
    services = await _start_real_services(nats_server.url, tmp_path_factory.mktemp("services"))
    buses = world.build()
    for bus in buses:
        await bus.connect(servers=nats_server.url, max_wait=10)
        await bus.provision()
        await bus.start()
    gbus = Bus(service="gateway", registry=registry)
    await gbus.connect(servers=nats_server.url, max_wait=10)
    await gbus.provision()
    gateway = Gateway.build(backend=BusBackend(gbus), store=MemoryStore(), settings=settings(), registry=registry)
    app = build_app(gateway)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    http = ClientSession()
    yield Stack(url=str(server.make_url("")).rstrip("/"), http=http, gateway=gateway, world=world, admin={})
    await http.close()
    await server.close()
    await app[TRACKER_KEY].stop()
    for bus in [*buses, gbus]:
        await bus.close()
    for svc in services:
        await svc.stop()
