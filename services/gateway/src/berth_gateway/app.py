"""The gateway service: HTTP in front, NATS behind.

``bootstrap`` is the composition root: it checks the route table against the schema and wires the
HTTP API onto a ServiceApp. When a route names a command or query the schema does not define, the
API is not served and ``/readyz`` answers 503 naming the routes."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from aiohttp import web
from berth_common.runtime import ServiceApp

from .backend import BusBackend
from .context import Gateway
from .http import TlsSettingsError, build_app, server_ssl_context
from .routes import ROUTES, Route
from .schema_check import RoutesOutsideSchema, route_problems
from .settings import GatewaySettings

log = logging.getLogger(__name__)


class GatewayService:
    """What a running gateway holds besides its ServiceApp: the HTTP runner and why it refused."""

    def __init__(self, settings: GatewaySettings | None, routes: Sequence[Route]) -> None:
        self.settings = settings
        self.routes = tuple(routes)
        self.problems: list[str] = []
        self.runner: web.AppRunner | None = None
        self.port: int | None = None

    async def ready(self) -> None:
        if self.problems:
            raise RoutesOutsideSchema(
                f"{len(self.problems)} route(s) point outside the schema: " + "; ".join(self.problems)
            )

    async def start_http(self, svc: ServiceApp) -> None:
        self.problems = route_problems(svc.bus.registry, self.routes)
        if self.problems:
            log.error(
                "gateway refuses to serve its API: routes point outside the schema",
                extra={"problems": self.problems},
            )
            return
        settings = self.settings or GatewaySettings()
        ssl_context = server_ssl_context(settings)  # before anything listens: no TLS settings, no start
        gateway = Gateway.build(
            backend=BusBackend(svc.bus), store=svc.store, settings=settings, registry=svc.bus.registry
        )
        runner = web.AppRunner(build_app(gateway), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, settings.host, settings.port, ssl_context=ssl_context)
        await site.start()
        self.runner = runner
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else settings.port
        scheme = "https" if ssl_context is not None else "http"
        if ssl_context is None:
            log.warning("gateway serves plain HTTP (BERTH_GATEWAY_INSECURE_HTTP=true): local development only")
        log.info("gateway listening", extra={"url": f"{scheme}://{settings.host}:{self.port}"})

    async def stop_http(self, _: ServiceApp) -> None:
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None


def bootstrap(settings: GatewaySettings | None = None, *, routes: Sequence[Route] = ROUTES) -> ServiceApp:
    """A gateway ServiceApp serving ``routes`` (the real route table unless a test gives others)."""
    app = ServiceApp("gateway", owns=["berth.api.gateway.>"], collections=[])
    service = GatewayService(settings, routes)
    app.on_startup(service.start_http)
    app.on_shutdown(service.stop_http)
    app.ready_check("routes", service.ready)
    return app


def main() -> None:
    settings = GatewaySettings()
    try:
        server_ssl_context(settings)
    except TlsSettingsError as exc:
        raise SystemExit(f"berth-gateway refuses to start: {exc}") from None
    bootstrap(settings).main()
