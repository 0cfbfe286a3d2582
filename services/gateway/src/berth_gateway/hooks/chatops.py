"""/hooks/chatops/{dingtalk|feishu|slack}."""

from __future__ import annotations

from aiohttp import web


def add_chatops_routes(app: web.Application) -> None:
    pass
