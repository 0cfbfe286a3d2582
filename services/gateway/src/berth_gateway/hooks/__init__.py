"""Inbound webhooks: Alertmanager, registries, and chat robots."""

from __future__ import annotations

from aiohttp import web
from berth_common.bus import Bus


def add_hook_routes(app: web.Application, bus: Bus | None) -> None:
    from .chatops import add_chatops_routes
    from .forward import add_forward_routes

    add_forward_routes(app, bus)
    add_chatops_routes(app)
