"""Inbound webhooks: Alertmanager, registries, and chat robots."""

from __future__ import annotations

from aiohttp import web


def add_hook_routes(app: web.Application) -> None:
    from .chatops import add_chatops_routes
    from .forward import add_forward_routes
    from .voice import add_voice_routes

    add_forward_routes(app)
    add_chatops_routes(app)
    add_voice_routes(app)
