"""The gateway on the real nats-server, with stub services (see stubs.py) behind it."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from aiohttp import ClientSession
from aiohttp.test_utils import TestServer
from berth_common.bus import Bus
from berth_common.store import MemoryStore
from berth_gateway.backend import BusBackend
from berth_gateway.context import Gateway
from berth_gateway.http import TRACKER_KEY, build_app
from berth_testkit.nats import NatsServer
from berth_testkit.procs import Proc, free_port
from gwtest import Stack, settings
from stubs import StubWorld, gateway_registry, stub_registry


async def _start_real_services(nats_url: str, data_dir: Path) -> list[Proc]:
    """monitor-alert and registry-sync exist: each runs as its own process (its console entry
    point) on our NATS, so the gateway's process imports no service package."""
    procs = []
    for service in ("monitor-alert", "registry-sync"):
        port = free_port()
        module = "berth_" + service.replace("-", "_") + ".main"
        proc = Proc(
            service,
            [sys.executable, "-c", f"from {module} import main; main()"],
            log_dir=data_dir,
            env={
                "BERTH_NATS_URL": nats_url,
                "BERTH_STORE_URL": "memory://",
                "BERTH_DATA_DIR": str(data_dir / service),
                "BERTH_HTTP_PORT": str(port),
                "BERTH_LOG_JSON": "false",
            },
        ).start()
        procs.append(proc)
        proc.wait_ready(lambda port=port: _ready(port), timeout=60, what=f"{service} /readyz")
    return procs


def _ready(port: int) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as resp:
            return bool(resp.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="session")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    # A nats-server of our own: the stub cluster-manager's consumers must never meet the real
    # cluster-manager's on the session-wide server when the whole repository's suite runs.
    nats_server = NatsServer(work_dir=tmp_path_factory.mktemp("gateway-nats")).start()
    registry = stub_registry()
    world = StubWorld(registry)
    procs = await _start_real_services(nats_server.url, tmp_path_factory.mktemp("services"))
    buses = world.build()
    for bus in buses:
        await bus.connect(servers=nats_server.url, max_wait=10)
        await bus.provision()
        await bus.start()
    gateway_reg = gateway_registry()
    gbus = Bus(service="gateway", registry=gateway_reg)
    await gbus.connect(servers=nats_server.url, max_wait=10)
    await gbus.provision()
    gateway = Gateway.build(backend=BusBackend(gbus), store=MemoryStore(), settings=settings(), registry=gateway_reg)
    app = build_app(gateway)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    http = ClientSession()
    yield Stack(
        url=str(server.make_url("")).rstrip("/"),
        http=http,
        gateway=gateway,
        world=world,
        admin={},
        nats_url=nats_server.url,
    )
    await http.close()
    await server.close()
    await app[TRACKER_KEY].stop()
    for bus in [*buses, gbus]:
        await bus.close()
    for proc in procs:
        proc.stop()
    nats_server.stop()
