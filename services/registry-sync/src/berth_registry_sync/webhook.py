"""``webhook_routes(bus)``: a standalone /hooks/registry endpoint for registry-sync's own tests. It checks
the notification (``berth_schema.hooks.registry``), answers 400 problem+json on bad input, and sends
registry-sync's ingest-webhook command. In a deployment the gateway receives the hook and does the same."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from aiohttp import web
from berth_common.bus import Bus
from berth_schema.registry import IngestWebhook

from .domain.webhooks import ACCEPTED_TYPES, BadPayload, parse_notification

_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")


def problem(status: int, title: str, detail: str) -> web.Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return web.Response(status=status, text=json.dumps(body), content_type="application/problem+json")


def webhook_routes(bus: Bus, *, path: str = "/hooks/registry") -> list[web.RouteDef]:
    """Routes for registry notifications: ``POST {path}[?tenant=<t>][&registry=<name>]`` (tenant ``system``).

    Without ``registry`` the sending registry is found by the host in each event's target URL.
    """

    async def receive(request: web.Request) -> web.Response:
        ctype = request.content_type
        if ctype not in ACCEPTED_TYPES:
            return problem(
                415,
                "Unsupported Media Type",
                f"Content-Type: expected one of {', '.join(sorted(ACCEPTED_TYPES))}, got {ctype!r}",
            )
        tenant = request.query.get("tenant", "system")  # the gateway's default tenant for hooks
        if not _NAME.match(tenant):
            return problem(400, "Bad Request", "tenant: must be a tenant name (a DNS label)")
        reg = request.query.get("registry")
        if reg is not None and not _NAME.match(reg):
            return problem(400, "Bad Request", "registry: must be a registry name (a DNS label)")
        try:
            body = await request.json(loads=json.loads)
        except ValueError as e:
            return problem(400, "Bad Request", f"body: not JSON: {e}")
        try:
            pushes = parse_notification(body)
        except BadPayload as e:
            return problem(400, "Bad Request", str(e))
        cmd = IngestWebhook(
            tenant=tenant, registry=reg, content_type=ctype, payload=body, received_at=datetime.now(UTC)
        )
        await bus.emit(cmd, tenant=tenant, subject=f"registries/{reg or 'by-host'}")
        return web.json_response({"accepted": len(pushes)}, status=202)

    return [web.post(path, receive)]
