"""The gateway service: HTTP in front, NATS behind."""

from __future__ import annotations

import logging

from aiohttp import web
from berth_common.runtime import ServiceApp

from .http import build_app
from .settings import GatewaySettings

log = logging.getLogger(__name__)

app = ServiceApp("gateway", owns=["berth.api.gateway.>"], collections=[])
_runner: list[web.AppRunner] = []


@app.on_startup
async def start_http(svc: ServiceApp) -> None:
    settings = GatewaySettings()
    runner = web.AppRunner(build_app(svc.bus), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.host, settings.port).start()
    _runner.append(runner)
    log.info("gateway listening", extra={"url": f"http://{settings.host}:{settings.port}"})


@app.on_shutdown
async def stop_http(svc: ServiceApp) -> None:
    while _runner:
        await _runner.pop().cleanup()
