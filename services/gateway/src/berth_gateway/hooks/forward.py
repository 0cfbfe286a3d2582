"""/hooks/alertmanager and /hooks/registry: handed to monitor-alert and registry-sync."""

from __future__ import annotations

from aiohttp import web


def add_forward_routes(app: web.Application) -> None:
    pass
