"""/hooks/twilio/call: a voice provider's callback about a call Berth placed (call status, the
digits the person pressed), sent unchanged to monitor-alert as ``ingest-call-status``.

The gateway cannot check the signature (the provider's Auth Token is sealed in monitor-alert,
which verifies ``X-Twilio-Signature`` over the channel's callback URL, the query and the form),
so it refuses only what cannot be a callback: no signature, a bad tenant, a body that is not a
form, and forwards the rest."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web
from berth_schema import alert

from ..context import AUDIT_DETAIL, HOOK_CALLER, TENANT, refusal
from ..problems import ApiError
from .forward import _name_param, _send

SIGNATURE = "X-Twilio-Signature"
MAX_PARAMS = 256
MAX_QUERY = 4096
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


async def twilio_call(request: web.Request) -> web.Response:
    signature = request.headers.get(SIGNATURE, "")
    if not signature or len(signature) > 256:
        raise refusal(request, ApiError(401, f"a call callback carries its {SIGNATURE} header"))
    request[HOOK_CALLER] = "hook:twilio"
    tenant = _name_param(request, "tenant", None)
    if tenant is None:
        raise ApiError(400, "the callback URL names its tenant", errors=[{"field": "tenant", "message": "required"}])
    request[TENANT] = tenant
    if request.content_type != "application/x-www-form-urlencoded":
        raise ApiError(
            415,
            "a call callback is form-encoded",
            errors=[{"field": "Content-Type", "message": "application/x-www-form-urlencoded"}],
        )
    form = await request.post()
    params = {k: v for k, v in form.items() if isinstance(v, str)}
    if len(params) > MAX_PARAMS or len(request.query_string) > MAX_QUERY:
        raise ApiError(413, "the callback is larger than any call status")
    cmd = alert.IngestCallStatus(
        tenant=tenant,
        query=request.query_string,
        params=params,
        signature=signature,
        received_at=datetime.now(UTC),
    )
    call = params.get("CallSid", "")
    sent = await _send(request, cmd, tenant=tenant, subject=f"calls/{call or 'unknown'}")
    request[AUDIT_DETAIL] = (
        f"call status {params.get('CallStatus', '?')} of {call or '?'} sent to monitor-alert as {sent}"
    )
    return web.Response(text=EMPTY_TWIML, content_type="text/xml")


def add_voice_routes(app: web.Application) -> None:
    app.router.add_post("/hooks/twilio/call", twilio_call)
