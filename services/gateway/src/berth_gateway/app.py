"""The gateway service: HTTP in front, NATS behind."""

from __future__ import annotations

import logging

from aiohttp import web
from berth_common.runtime import ServiceApp

from .backend import BusBackend
from .context import Gateway
from .http import build_app
from .settings import GatewaySettings

log = logging.getLogger(__name__)

app = ServiceApp("gateway", owns=["berth.api.gateway.>"], collections=[])
_runner: list[web.AppRunner] = []
bound_port: list[int] = []


@app.on_startup
async def start_http(svc: ServiceApp) -> None:
    settings = GatewaySettings()
    gateway = Gateway.build(backend=BusBackend(svc.bus), store=svc.store, settings=settings, registry=svc.bus.registry)
    runner = web.AppRunner(build_app(gateway), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.host, settings.port)
    await site.start()
    _runner.append(runner)
    server = getattr(site, "_server", None)
    sockets = getattr(server, "sockets", None) or []
    port = sockets[0].getsockname()[1] if sockets else settings.port
    bound_port[:] = [port]
    log.info("gateway listening", extra={"url": f"http://{settings.host}:{port}"})


@app.on_shutdown
async def stop_http(svc: ServiceApp) -> None:
    while _runner:
        await _runner.pop().cleanup()
