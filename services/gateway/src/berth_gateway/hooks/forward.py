"""/hooks/alertmanager and /hooks/registry: the body is validated against the hook payload models
of the schema (``berth_schema.hooks``) and sent as the owning service's ``ingest-webhook`` command
(monitor-alert / registry-sync), which parses it again with the same model."""

from __future__ import annotations

import hmac
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from berth_schema import alert, registry
from berth_schema.hooks import ACCEPTED_TYPES, HookPayloadInvalid, parse_alertmanager, parse_registry_notification
from berth_schema.hooks.registry import DistributionNotification
from pydantic import BaseModel

from ..backend import command_envelope
from ..context import AUDIT_DETAIL, HOOK_CALLER, TENANT, gw, refusal
from ..jsonbody import loads
from ..models import NAME_PATTERN
from ..problems import ApiError

_NAME = re.compile(NAME_PATTERN)
Handler = Callable[[web.Request], Awaitable[web.Response]]


TOKEN_SETTING = "BERTH_GATEWAY_HOOKS_TOKEN"


def _check_hook_token(request: web.Request, hook: str) -> None:
    """Closed by default: no configured token refuses every request (503 naming the setting);
    the token travels only in the Authorization header (a URL ends up in logs)."""
    try:
        _verify_hook_token(request, hook)
    except ApiError as err:
        raise refusal(request, err) from None
    request[HOOK_CALLER] = f"hook:{hook}"


def _verify_hook_token(request: web.Request, hook: str) -> None:
    secret = gw(request).settings.hooks_token
    if secret is None:
        raise ApiError(
            503,
            f"the {hook} hook is closed: no hook token is configured on this gateway; the operator sets "
            f"{TOKEN_SETTING} and configures the sender to send it as Authorization: Bearer <token>",
        )
    if "token" in request.query or "access_token" in request.query:
        raise ApiError(
            401,
            "the hook token is accepted only in the Authorization header (Bearer), never in the URL",
            headers={"WWW-Authenticate": "Bearer"},
        )
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), secret.get_secret_value().encode()
    ):
        raise ApiError(
            401,
            "hook token missing or wrong (send Authorization: Bearer <token>)",
            headers={"WWW-Authenticate": "Bearer"},
        )


def _name_param(request: web.Request, param: str, default: str | None) -> str | None:
    value = request.query.get(param, default)
    if value is not None and (not _NAME.match(value) or len(value) > 63):
        raise ApiError(400, f"{param} is not a valid name", errors=[{"field": param, "message": "must be a DNS label"}])
    return value


async def _json_body(request: web.Request) -> Any:
    return loads(await request.read() or b"{}", what="the webhook body")


def _bad_payload(hook: str, exc: HookPayloadInvalid) -> ApiError:
    return ApiError(400, f"invalid {hook} payload: {exc}", errors=[{"field": exc.field, "message": exc.message}])


async def _send(request: web.Request, cmd: BaseModel, *, tenant: str, subject: str) -> str:
    g = gw(request)
    env = command_envelope(g.registry.spec_for(cmd), cmd, tenant=tenant, subject=subject)
    try:
        await g.backend.send(env)
    except Exception as exc:
        raise ApiError(503, f"the webhook could not be queued ({type(exc).__name__}); retry later") from None
    return env.id


async def alertmanager(request: web.Request) -> web.Response:
    _check_hook_token(request, "alertmanager")
    tenant = _name_param(request, "tenant", "system")
    assert tenant is not None
    request[TENANT] = tenant
    body = await _json_body(request)
    try:
        payload = parse_alertmanager(body)
    except HookPayloadInvalid as exc:
        raise _bad_payload("Alertmanager", exc) from None
    cmd = alert.IngestWebhook(tenant=tenant, payload=body, received_at=datetime.now(UTC))
    sent = await _send(request, cmd, tenant=tenant, subject=f"webhooks/{payload.receiver or 'alertmanager'}")
    request[AUDIT_DETAIL] = f"{len(payload.alerts)} alert(s) sent to monitor-alert as {sent}"
    return web.json_response({"accepted": len(payload.alerts), "id": sent}, status=202)


async def registry_hook(request: web.Request) -> web.Response:
    _check_hook_token(request, "registry")
    ctype = request.content_type
    if ctype not in ACCEPTED_TYPES:
        raise ApiError(
            415,
            f"send the notification as one of {', '.join(sorted(ACCEPTED_TYPES))}, not {ctype!r}",
            errors=[{"field": "Content-Type", "message": "unsupported media type"}],
        )
    tenant = _name_param(request, "tenant", "system")
    assert tenant is not None
    request[TENANT] = tenant
    reg = _name_param(request, "registry", None)
    body = await _json_body(request)
    try:
        note = parse_registry_notification(body)
    except HookPayloadInvalid as exc:
        raise _bad_payload("registry notification", exc) from None
    cmd = registry.IngestWebhook(
        tenant=tenant, registry=reg, content_type=ctype, payload=body, received_at=datetime.now(UTC)
    )
    sent = await _send(request, cmd, tenant=tenant, subject=f"registries/{reg or 'by-host'}")
    events = len(note.events) if isinstance(note, DistributionNotification) else 1
    request[AUDIT_DETAIL] = f"{events} registry event(s) sent to registry-sync as {sent}"
    return web.json_response({"accepted": events, "id": sent}, status=202)


HOOKS: dict[str, Handler] = {"alertmanager": alertmanager, "registry": registry_hook}


def add_forward_routes(app: web.Application) -> None:
    for hook, handler in HOOKS.items():
        app.router.add_post(f"/hooks/{hook}", handler)
