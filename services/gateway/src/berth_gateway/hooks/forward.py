"""/hooks/alertmanager and /hooks/registry: mounted from monitor-alert / registry-sync when they
offer ``webhook_routes()``, else turned into their ``ingest-webhook`` commands here."""

from __future__ import annotations

import hmac
import importlib
import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from berth_common.bus import Bus
from pydantic import BaseModel, ValidationError

from ..backend import command_envelope, command_spec
from ..context import gw
from ..models import NAME_PATTERN
from ..problems import ApiError, invalid

HOOKS = {"alertmanager": "monitor-alert", "registry": "registry-sync"}


def _check_hook_token(request: web.Request) -> None:
    secret = gw(request).settings.hooks_token
    if secret is None:
        return
    header = request.headers.get("Authorization", "")
    given = header.partition(" ")[2] if header.lower().startswith("bearer ") else request.query.get("token", "")
    if not hmac.compare_digest(given.encode(), secret.get_secret_value().encode()):
        raise ApiError(401, "webhook token missing or wrong", headers={"WWW-Authenticate": "Bearer"})


def _hook_handler(hook: str, service: str) -> Any:
    async def handle(request: web.Request) -> web.Response:
        _check_hook_token(request)
        tenant = request.query.get("tenant", "system")
        import re

        if not re.match(NAME_PATTERN, tenant) or len(tenant) > 63:
            raise ApiError(400, "tenant is not a valid name", errors=[{"field": "tenant", "message": "DNS label"}])
        raw = await request.read()
        try:
            payload = json.loads(raw or b"{}")
        except ValueError:
            raise ApiError(
                400, "the webhook body is not JSON", errors=[{"field": "body", "message": "invalid JSON"}]
            ) from None
        if not isinstance(payload, dict):
            raise ApiError(
                422, "the webhook body must be a JSON object", errors=[{"field": "body", "message": "object"}]
            )
        g = gw(request)
        spec = command_spec(g.registry, service, "ingest-webhook")
        fields: dict[str, Any] = {
            "tenant": tenant,
            "payload": payload,
            "received_at": datetime.now(UTC).isoformat(),
            "content_type": request.content_type or "application/json",
        }
        if "registry" in request.query:
            fields["registry"] = request.query["registry"]
        model: type[BaseModel] = spec.model
        fields = {k: v for k, v in fields.items() if k in model.model_fields}
        try:
            cmd = model.model_validate(fields)
        except ValidationError as exc:
            raise invalid(exc, what=f"{hook} webhook") from None
        env = command_envelope(spec, cmd, tenant=tenant, subject=f"hooks/{hook}")
        await g.backend.send(env)
        return web.json_response({"accepted": True, "id": env.id}, status=202)

    return handle


def _guarded(handler: Any) -> Any:
    async def handle(request: web.Request) -> web.StreamResponse:
        _check_hook_token(request)
        result: web.StreamResponse = await handler(request)
        return result

    return handle


def add_forward_routes(app: web.Application, bus: Bus | None) -> None:
    """Mount the owning service's ``webhook_routes(bus)`` when it has one, else our own forwarder."""
    for hook, service in HOOKS.items():
        module = "berth_" + service.replace("-", "_") + ".webhook"
        routes: list[web.RouteDef] | None = None
        if bus is not None:
            try:
                routes = importlib.import_module(module).webhook_routes(bus, path=f"/hooks/{hook}")
            except (ImportError, AttributeError):
                routes = None
        if routes:
            for r in routes:
                app.router.add_route(r.method, r.path, _guarded(r.handler))
        else:
            app.router.add_post(f"/hooks/{hook}", _hook_handler(hook, service))
