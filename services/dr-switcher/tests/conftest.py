"""dr-switcher fixtures: the service on the real NATS server (session), two loopback sites
and a PowerDNS zone per test, and a tenant of the test's own."""

from __future__ import annotations

import re
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import nats
import pytest
from aiohttp import web
from berth_common.events import Envelope
from berth_common.runtime import ServiceSettings
from berth_common.store.memory import MemoryStore
from berth_dr_switcher import state
from berth_dr_switcher.adapters.powerdns import PowerDnsProvider
from berth_dr_switcher.adapters.probes import Prober
from berth_dr_switcher.app import app
from berth_dr_switcher.bootstrap import bootstrap
from berth_dr_switcher.config import DrSettings, deps
from berth_dr_switcher.witness import make_app
from berth_testkit.powerdns import PowerDNS

sys.path.insert(0, str(Path(__file__).parent))

from dr_harness.harness import Service, create_zone
from dr_harness.sites import Site


# Module scope: the service stops after each module, so tests of other services sharing the
# session's NATS server never see a dr-switcher answering (the gateway tests check that).
@pytest.fixture(scope="module")
async def service(nats_server: Any, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Service]:
    bootstrap(DrSettings(refresh_seconds=0.1, lease_seconds=3))
    settings = ServiceSettings(nats_url=nats_server.url, data_dir=tmp_path_factory.mktemp("dr-switcher"), http_port=0)
    await app.start(settings, store=MemoryStore())
    svc = Service()
    nc = await nats.connect(nats_server.url)

    async def on_fact(msg: Any) -> None:
        svc.facts.append(Envelope.from_json(msg.data))

    await nc.subscribe("berth.evt.dr.>", cb=on_fact)
    yield svc
    await nc.close()
    await app.stop()


@pytest.fixture
async def tenant(request: pytest.FixtureRequest, service: Service) -> AsyncIterator[str]:
    name = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())[:40].strip("-") + "-" + uuid.uuid4().hex[:6]
    yield name
    # stop probing this test's groups (their sites and DNS server are going away)
    col = app.store.collection(state.GROUPS)
    for rec in await col.list(where={"tenant": name}, limit=100):
        await col.delete(rec.key)


@pytest.fixture
async def sites() -> AsyncIterator[tuple[Site, Site]]:
    primary, standby = await Site("127.0.0.1").start(), await Site("127.0.0.2").start()
    yield primary, standby
    await primary.stop()
    await standby.stop()


@pytest.fixture
async def provider(powerdns: PowerDNS, sites: tuple[Site, Site]) -> AsyncIterator[str]:
    """A PowerDNS provider name registered with the running service; the zone answers the primary."""
    name = f"pdns-{uuid.uuid4().hex[:8]}"
    await create_zone(powerdns, initial=sites[0].host)
    deps.dns_providers[name] = PowerDnsProvider(
        api_url=powerdns.api_url, api_key=powerdns.api_key, verify=[("127.0.0.1", powerdns.dns_port)], verify_seconds=5
    )
    yield name
    deps.dns_providers.pop(name, None)


WITNESS_ADDR = "127.0.0.3"  # the witness agent's probes come from here; Berth's from 127.0.0.1


@pytest.fixture
async def witness() -> AsyncIterator[str]:
    """A real witness agent (a third vantage point) on its own loopback address; yields its URL."""
    runner = web.AppRunner(make_app(Prober(local_addr=WITNESS_ADDR)), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, WITNESS_ADDR, 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://{WITNESS_ADDR}:{port}/v1/probe"
    await runner.cleanup()
