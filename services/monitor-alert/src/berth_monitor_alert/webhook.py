"""A standalone HTTP entry for Alertmanager, ``POST /hooks/alertmanager``, for monitor-alert's own
tests and benchmarks. In a deployment the gateway receives the hook (it validates the body against
the same schema model, ``berth_schema.hooks.alertmanager``) and sends ``ingest-webhook`` itself.

The body is validated here (a bad payload gets a 400 ``application/problem+json`` naming the
field) and forwarded unchanged as the ``ingest-webhook`` command; monitor-alert does the rest.
The tenant comes from the ``tenant`` query parameter (``?tenant=t1`` in the Alertmanager
``webhook_configs`` URL) or the default.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from berth_common.bus import Bus
from berth_schema.alert import IngestWebhook

from .domain.payload import PayloadInvalid, parse_payload

log = logging.getLogger(__name__)
MAX_BODY = 4 * 1024 * 1024
_TENANT = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str, **extra: Any) -> web.Response:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return web.Response(status=status, text=json.dumps(body), content_type=PROBLEM)


def webhook_routes(
    bus: Bus, *, path: str = "/hooks/alertmanager", default_tenant: str = "system"
) -> list[web.RouteDef]:
    """aiohttp routes to add to an application: ``app.add_routes(webhook_routes(bus))``."""

    async def receive(request: web.Request) -> web.Response:
        tenant = request.query.get("tenant", default_tenant)
        if not _TENANT.match(tenant):
            return problem(400, "Bad tenant", "tenant: must be a DNS label (lowercase letters, digits, '-')")
        if request.content_length is not None and request.content_length > MAX_BODY:
            return problem(413, "Payload too large", f"body: larger than {MAX_BODY} bytes")
        raw = await request.read()
        if len(raw) > MAX_BODY:
            return problem(413, "Payload too large", f"body: larger than {MAX_BODY} bytes")
        try:
            body = json.loads(raw)
        except ValueError as exc:
            return problem(400, "Invalid JSON", f"body: not JSON ({exc})")
        try:
            payload = parse_payload(body)
        except PayloadInvalid as exc:
            return problem(400, "Invalid Alertmanager payload", str(exc), field=exc.field)
        cmd = IngestWebhook(tenant=tenant, payload=body, received_at=datetime.now(UTC))
        try:
            env = await bus.emit(cmd, tenant=tenant, subject=f"webhooks/{payload.receiver or 'alertmanager'}")
        except Exception as exc:
            log.warning("could not forward an Alertmanager webhook: %s", type(exc).__name__)
            return problem(503, "Bus unavailable", "the webhook could not be queued; Alertmanager will retry")
        return web.json_response({"accepted": len(payload.alerts), "command": env.id}, status=202)

    return [web.post(path, receive)]
