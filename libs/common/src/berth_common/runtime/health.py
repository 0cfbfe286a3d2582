"""The side port every service serves: /healthz, /readyz and /metrics."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

log = logging.getLogger(__name__)

ReadyCheck = Callable[[], Awaitable[None]]


class HealthServer:
    """``/healthz`` answers while the process runs; ``/readyz`` only when every check passes
    (and not while draining); ``/metrics`` is the Prometheus exposition."""

    def __init__(
        self,
        *,
        checks: dict[str, ReadyCheck],
        host: str,
        port: int,
        before_metrics: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.checks, self.host, self.port = checks, host, port
        self.before_metrics = before_metrics
        self.draining = False
        self._runner: web.AppRunner | None = None
        self.bound_port: int | None = None

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics)
        return app

    async def start(self) -> int:
        self._runner = web.AppRunner(self.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.bound_port = int(sockets[0].getsockname()[1]) if sockets else self.port
        return self.bound_port

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _healthz(self, _: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def _readyz(self, _: web.Request) -> web.Response:
        if self.draining:
            return web.json_response({"status": "draining"}, status=503)
        results: dict[str, str] = {}
        ok = True
        for name, check in self.checks.items():
            try:
                await asyncio.wait_for(check(), timeout=2.0)
                results[name] = "ok"
            except Exception as exc:  # readiness reports any failure, whatever its type
                ok = False
                results[name] = f"{type(exc).__name__}: {exc}"[:300]
        return web.json_response(
            {"status": "ok" if ok else "unavailable", "checks": results}, status=200 if ok else 503
        )

    async def _metrics(self, _: web.Request) -> web.Response:
        if self.before_metrics is not None:
            try:
                await self.before_metrics()
            except Exception:
                log.exception("refreshing metrics failed")
        body = generate_latest()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
