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
from berth_testkit.procs import Proc, free_port
from gwtest import Stack, settings
from stubs import StubWorld, stub_registry


async def _start_real_services(nats_url: str, data_dir: Path) -> tuple[list[Any], list[Proc]]:
    """registry-sync runs in-process; monitor-alert as its own process (`berth-monitor-alert`),
    because in one interpreter its model of node-manager's scale-pool command collides with
    berth_node_manager.messages (which cluster-manager's messages import)."""
    from berth_common.runtime.settings import ServiceSettings
    from berth_registry_sync import handlers as rs_handlers
    from berth_registry_sync import scheduler  # noqa: F401  (declares itself on the app)

    apps = [rs_handlers.app]
    for app in apps:
        settings = ServiceSettings(nats_url=nats_url, data_dir=data_dir / app.name, http_port=0)
        await app.start(settings, store=MemoryStore())
    port = free_port()
    ma = Proc(
        "monitor-alert",
        [sys.executable, "-c", "from berth_monitor_alert.main import main; main()"],
        log_dir=data_dir,
        env={
            "BERTH_NATS_URL": nats_url,
            "BERTH_STORE_URL": "memory://",
            "BERTH_DATA_DIR": str(data_dir / "ma"),
            "BERTH_HTTP_PORT": str(port),
            "BERTH_LOG_JSON": "false",
        },
    ).start()
    ma.wait_ready(lambda: _ready(port), timeout=60, what="monitor-alert /readyz")
    return apps, [ma]


def _ready(port: int) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="session")
async def stack(nats_server: Any, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    registry = stub_registry()
    world = StubWorld(registry)
    services, procs = await _start_real_services(nats_server.url, tmp_path_factory.mktemp("services"))
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
    for proc in procs:
        proc.stop()
