"""The public HTTP API of the gateway."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from berth_common.bus import Bus

SERVICE_NAMES = (
    "cluster-manager",
    "node-manager",
    "registry-sync",
    "release-orchestrator",
    "monitor-alert",
    "dr-switcher",
    "gateway",
)

BUS_KEY = web.AppKey("bus", Bus)


def problem(status: int, title: str, detail: str, **extra: Any) -> web.Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return web.json_response(body, status=status, content_type="application/problem+json")


async def list_services(request: web.Request) -> web.Response:
    bus = request.app[BUS_KEY]

    async def one(name: str) -> dict[str, Any]:
        try:
            return {"name": name, "status": "up", **await bus.request(name, "info", {}, timeout=2.0)}
        except Exception as exc:
            return {"name": name, "status": "down", "error": str(exc)}

    items = await asyncio.gather(*(one(n) for n in SERVICE_NAMES))
    return web.json_response({"items": list(items)})


def build_app(bus: Bus) -> web.Application:
    app = web.Application()
    app[BUS_KEY] = bus
    app.router.add_get("/api/v1/services", list_services)
    return app
