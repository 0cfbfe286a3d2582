"""A standalone HTTP entry for Twilio's call callbacks, ``POST /hooks/twilio/call``, for
monitor-alert's own tests. In a deployment the gateway owns this route and does the same: it
forwards the raw query string, the form body and ``X-Twilio-Signature`` as the
``ingest-call-status`` command, and monitor-alert (which holds the Auth Token) verifies them.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime

from aiohttp import web
from berth_common.bus import Bus
from berth_schema.alert import IngestCallStatus
from berth_schema.alert.callbacks import CALL_HOOK_PATH, TWILIO_SIGNATURE_HEADER

log = logging.getLogger(__name__)
_TENANT = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
TWIML_OK = '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Thank you.</Say></Response>'


def call_routes(bus: Bus, *, path: str = CALL_HOOK_PATH, default_tenant: str = "system") -> list[web.RouteDef]:
    async def receive(request: web.Request) -> web.Response:
        tenant = request.query.get("tenant", default_tenant)
        if not _TENANT.match(tenant):
            return web.Response(status=400, text="tenant: must be a DNS label")
        form = await request.post()
        params = {k: v for k, v in form.items() if isinstance(v, str)}
        cmd = IngestCallStatus(
            tenant=tenant,
            query=request.rel_url.raw_query_string,
            params=params,
            signature=request.headers.get(TWILIO_SIGNATURE_HEADER, ""),
            received_at=datetime.now(UTC),
        )
        try:
            await bus.emit(cmd, tenant=tenant, subject="hooks/twilio/call")
        except Exception as exc:
            log.warning("could not forward a call callback: %s", type(exc).__name__)
            return web.Response(status=503, text="the callback could not be queued")
        return web.Response(text=TWIML_OK, content_type="text/xml")

    return [web.post(path, receive)]
