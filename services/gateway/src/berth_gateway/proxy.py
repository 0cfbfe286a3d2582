"""Handlers generated from the route table: list and get become queries, the rest commands."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, ValidationError

from .backend import command_envelope, command_spec
from .bodies import body_of, names_of
from .context import ACTION, gw, principal, read_json, require, resolve_tenant
from .operations import new_operation_id
from .pagination import decode_cursor, encode_cursor, parse_limit
from .problems import ApiError, invalid
from .routes import Route

# totals a list reply carries beside its items, passed through to the caller
LIST_TOTALS = ("remaining", "limit")


def handler_for(route: Route) -> Any:
    if route.kind == "list":
        return _list_handler(route)
    if route.kind == "get":
        return _get_handler(route)
    if route.kind == "call":
        return _call_handler(route)
    return _command_handler(route)


def _visible(item: Any, tenant: str | None) -> bool:
    # an item naming another tenant never passes, whatever the service sent
    return isinstance(item, dict) and (tenant is None or item.get("tenant", tenant) == tenant)


def _list_handler(route: Route) -> Any:
    async def handle(request: web.Request) -> web.Response:
        p = principal(request)
        tenant = resolve_tenant(request, p, required=False)
        require(p, route.role, tenant, request.match_info.get("namespace", ""))
        limit = parse_limit(request.query.get("limit"))
        after = decode_cursor(request.query.get("cursor"))
        # services page by their own store keys: ask for a full page and page here by ``route.key``
        payload: dict[str, Any] = {**request.match_info, "limit": 500}
        for f in route.filters:
            if f in request.query:
                payload[f] = request.query[f]
        if tenant is not None:
            payload["tenant"] = tenant
        g = gw(request)
        reply = await g.backend.query(route.service, route.op, payload, within=g.settings.query_timeout)
        if route.items_from:
            items = reply.get(route.items_from) if isinstance(reply, dict) else None
            if isinstance(reply, dict) and tenant is not None and reply.get("tenant", tenant) != tenant:
                raise ApiError(404, f"{request.path} not found")
        else:
            items = reply.get("items", []) if isinstance(reply, dict) else reply
        if not isinstance(items, list):
            raise ApiError(502, f"{route.service} answered {route.op} without an items list")
        # Defence in depth: never pass on another tenant's item, whatever the service sent.
        visible = [i for i in items if _visible(i, tenant)]
        visible.sort(key=lambda i: str(i.get(route.key, "")))
        if after is not None:
            visible = [i for i in visible if str(i.get(route.key, "")) > after]
        page = visible[:limit]
        more = len(visible) > limit
        cursor = encode_cursor(str(page[-1].get(route.key, ""))) if more and page else None
        body: dict[str, Any] = {"items": page, "next_cursor": cursor}
        if isinstance(reply, dict) and not route.items_from:
            # what the service says beside its items (cluster-manager: how many more may be created)
            body.update({k: reply[k] for k in LIST_TOTALS if k in reply})
        return web.json_response(body)

    return handle


def _get_handler(route: Route) -> Any:
    async def handle(request: web.Request) -> web.Response:
        p = principal(request)
        tenant = resolve_tenant(request, p, required=False)
        require(p, route.role, tenant, request.match_info.get("namespace", ""))
        payload = _renamed(route, dict(request.match_info))
        if tenant is not None:
            payload["tenant"] = tenant
        g = gw(request)
        if route.via_list:
            reply = await _find_in_list(request, route, payload)
        else:
            reply = await g.backend.query(route.service, route.op, payload, within=g.settings.query_timeout)
        if not isinstance(reply, dict):
            raise ApiError(502, f"{route.service} answered {route.op} with a {type(reply).__name__}")
        if tenant is not None and "tenant" in reply and reply["tenant"] != tenant:
            raise ApiError(404, f"{request.path} not found")
        return web.json_response(reply)

    return handle


def _call_handler(route: Route) -> Any:
    async def handle(request: web.Request) -> web.Response:
        p = principal(request)
        request[ACTION] = route.name
        tenant = resolve_tenant(request, p, required=True)
        assert tenant is not None
        require(p, route.role, tenant, request.match_info.get("namespace", ""))
        g = gw(request)
        shape = body_of(route, g.registry)
        fields = shape.read(await read_json(request), what="request body")
        payload = {**fields, **_renamed(route, dict(request.match_info)), "tenant": tenant, "requested_by": p.user}
        if shape.source is not None:
            try:
                shape.source.model_validate(payload)
            except ValidationError as exc:
                raise invalid(exc, what=f"request for {route.service} {route.op}") from None
        reply = await g.backend.query(route.service, route.op, payload, within=g.settings.query_timeout)
        if not isinstance(reply, dict):
            raise ApiError(502, f"{route.service} answered {route.op} with a {type(reply).__name__}")
        status = 201 if request.method == "POST" else 200
        return web.json_response(reply, status=status, headers={"Cache-Control": "no-store"})

    return handle


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def _renamed(route: Route, params: dict[str, Any]) -> dict[str, Any]:
    for src, dst in route.rename:
        if src in params:
            params[dst] = params.pop(src)
    return params


async def _find_in_list(request: web.Request, route: Route, payload: dict[str, Any]) -> Any:
    """A get for a service that only lists: page through its list op and pick the item by key."""
    g = gw(request)
    wanted = request.match_info[route.params[-1]]
    after: str | None = None
    for _ in range(100):
        reply = await g.backend.query(
            route.service, route.via_list, {**payload, "limit": 500, "after": after}, within=g.settings.query_timeout
        )
        items = reply.get("items", []) if isinstance(reply, dict) else []
        for item in items:
            if isinstance(item, dict) and item.get(route.key) == wanted:
                return item
        after = reply.get("next") if isinstance(reply, dict) else None
        if not after or not items:
            break
    raise ApiError(404, f"{request.path} not found")


def _command_handler(route: Route) -> Any:
    async def handle(request: web.Request) -> web.Response:
        p = principal(request)
        request[ACTION] = route.name
        g = gw(request)
        key = request.headers.get("Idempotency-Key")
        if key is not None and request.method == "POST":
            raw = await request.read()
            stored = await g.idempotency.begin(user=p.user, method=request.method, path=request.path, key=key, body=raw)
            if stored is not None:
                return web.json_response(stored["body"], status=stored["status"], headers=stored["headers"])
            try:
                resp = await _run_command(route, request)
            except ApiError as err:
                await g.idempotency.finish(
                    user=p.user,
                    method=request.method,
                    path=request.path,
                    key=key,
                    status=err.status,
                    body=err.body(instance=request.path),
                    headers={},
                )
                raise
            except BaseException:
                await g.idempotency.finish(
                    user=p.user, method=request.method, path=request.path, key=key, status=500, body=None, headers={}
                )
                raise
            assert resp.text is not None
            import json

            await g.idempotency.finish(
                user=p.user,
                method=request.method,
                path=request.path,
                key=key,
                status=resp.status,
                body=json.loads(resp.text),
                headers={"Location": resp.headers.get("Location", "")},
            )
            return resp
        return await _run_command(route, request)

    return handle


async def _run_command(route: Route, request: web.Request) -> web.Response:
    p = principal(request)
    tenant = resolve_tenant(request, p, required=True)
    assert tenant is not None
    g = gw(request)
    spec = command_spec(g.registry, route.service, route.op)
    fields = body_of(route, g.registry).read(await read_json(request), what="request body")
    namespace = request.match_info.get("namespace", "") or str(fields.get("namespace", "") or "")
    require(p, route.role, tenant, namespace)
    params = _renamed(route, dict(request.match_info))
    user = {"requested_by": p.user, "by": p.user, "created_by": p.user}
    if route.wrap:
        inner = {**fields, "tenant": tenant} if route.wrap_tenant else fields
        payload: dict[str, Any] = {route.wrap: inner, "tenant": tenant, **params, **user}
    else:
        payload = {**fields, **params, "tenant": tenant, **user}
    model: type[BaseModel] = spec.model
    if model.model_config.get("extra") != "allow":
        # what the gateway adds and the command does not name (the caller's own fields were checked)
        known = names_of(model)
        added = {"tenant", *user, *params}
        payload = {k: v for k, v in payload.items() if k in known or k not in added}
    try:
        command = model.model_validate(payload)
    except ValidationError as exc:
        # the schema's rules: name the field as the caller sent it
        raise invalid(exc, what=f"request for {route.service} {route.op}", strip=route.wrap) from None
    target = route.target.format_map(_Blank({**fields, **request.match_info}))
    if route.validate:
        await _service_validation(request, route, payload, tenant)
    op_id = new_operation_id()
    operation = await g.operations.create(
        op_id=op_id,
        kind=route.name,
        target=target,
        tenant=tenant,
        user=p.user,
        done=route.done,
        confirm=_confirm(route, target, present=request.method != "DELETE"),
    )
    env = command_envelope(spec, command, tenant=tenant, subject=target, correlationid=op_id)
    try:
        await g.backend.send(env)
    except Exception as exc:
        await g.operations.fail(op_id, f"the command could not be published: {type(exc).__name__}")
        raise ApiError(503, f"could not hand the {route.op} command to {route.service}: {type(exc).__name__}") from None
    return web.json_response({"operation": operation}, status=202, headers={"Location": f"/api/v1/operations/{op_id}"})


def _confirm(route: Route, target: str, *, present: bool) -> dict[str, Any] | None:
    if not route.confirm:
        return None
    return {
        "service": route.service,
        "op": route.confirm,
        "key": route.key,
        "value": target.rsplit("/", 1)[-1],
        "present": present,
    }


async def _service_validation(request: web.Request, route: Route, payload: dict[str, Any], tenant: str) -> None:
    """Ask the service to check the body with its own rules; its field errors become a 422.
    When the service does not offer the check, the command still carries the body."""
    g = gw(request)
    try:
        reply = await g.backend.query(
            route.service, route.validate, {**payload, "tenant": tenant}, within=g.settings.query_timeout
        )
    except ApiError as exc:
        if exc.status == 503:
            return
        raise
    if isinstance(reply, dict) and reply.get("valid") is False:
        errors = [
            {"field": str(e.get("field", "")), "message": str(e.get("message", ""))}
            for e in reply.get("errors", [])
            if isinstance(e, dict)
        ]
        names = ", ".join(dict.fromkeys(e["field"] for e in errors))
        raise ApiError(422, f"invalid request body: {names}", errors=errors)
