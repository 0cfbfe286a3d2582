"""monitor-alert test fixtures: fake chat robots and SMTP (third-party SaaS only), and the
service itself running on the real NATS server with its webhook route on a free port."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import nats
import pytest
from aiohttp import web
from berth_common.events import Envelope
from berth_common.runtime import ServiceSettings
from berth_common.store.memory import MemoryStore
from berth_monitor_alert.adapters.alertmanager_api import Alertmanagers
from berth_monitor_alert.bootstrap import bootstrap
from berth_monitor_alert.callhook import call_routes
from berth_monitor_alert.config import MonitorSettings
from berth_monitor_alert.webhook import webhook_routes

sys.path.insert(0, str(Path(__file__).parent))

from ma_fakes.chat import ChatFakes
from ma_fakes.harness import FakeClock, Service
from ma_fakes.smtp import SmtpFake

DINGTALK_SECRET = "SECdingtalk-secret"
FEISHU_SECRET = "feishu-secret"
WEBHOOK_SECRET = "hook-secret"


@pytest.fixture
async def chat() -> AsyncIterator[ChatFakes]:
    fakes = await ChatFakes(
        dingtalk={"tok-1": DINGTALK_SECRET},
        wecom={"key-1"},
        feishu={"hook-1": FEISHU_SECRET},
        webhook_secret=WEBHOOK_SECRET,
    ).start()
    yield fakes
    await fakes.stop()


@pytest.fixture
def smtp() -> Iterator[SmtpFake]:
    fake = SmtpFake().start()
    yield fake
    fake.stop()


@pytest.fixture(scope="session")
async def service(nats_server: Any, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Service]:
    clock = FakeClock()
    monitor = MonitorSettings(
        retry_base_seconds=0.05,
        retry_cap_seconds=0.2,
        escalation_sweep_seconds=3600,  # tests call escalate_once themselves
        scaling_sweep_seconds=3600,  # tests call evaluate_metrics themselves
    )
    app = bootstrap(monitor, clock=clock, alertmanagers=Alertmanagers())  # tests push to Alertmanager on purpose
    settings = ServiceSettings(nats_url=nats_server.url, data_dir=tmp_path_factory.mktemp("monitor-alert"), http_port=0)
    await app.start(settings, store=MemoryStore())
    web_app = web.Application()
    web_app.add_routes(webhook_routes(app.bus))
    web_app.add_routes(call_routes(app.bus))
    runner = web.AppRunner(web_app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    svc = Service(
        webhook_url=f"http://127.0.0.1:{port}/hooks/alertmanager",
        clock=clock,
        call_hook_url=f"http://127.0.0.1:{port}/hooks/twilio/call",
    )
    nc = await nats.connect(nats_server.url)

    async def on_fact(msg: Any) -> None:
        svc.facts.append(Envelope.from_json(msg.data))

    async def on_command(msg: Any) -> None:
        svc.commands.append(Envelope.from_json(msg.data))

    await nc.subscribe("berth.evt.alert.>", cb=on_fact)
    await nc.subscribe("berth.cmd.release-orchestrator.>", cb=on_command)
    await nc.subscribe("berth.cmd.node-manager.>", cb=on_command)
    yield svc
    await nc.close()
    await runner.cleanup()
    await app.stop()
