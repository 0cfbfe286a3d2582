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


@pytest.fixture(scope="session")
async def stack(nats_server: Any) -> AsyncIterator[Stack]:
    registry = stub_registry()
    world = StubWorld(registry)
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
