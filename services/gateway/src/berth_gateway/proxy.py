"""Handlers generated from the route table: list and get become queries, the rest commands."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ValidationError

from .backend import command_envelope, command_spec
from .bodies import body_of, names_of
from .context import ACTION, gw, principal, read_json, require, resolve_tenant
from .grants import granted
from .idempotency import Scope
from .jsonbody import strict
from .operations import new_operation_id, public
from .pagination import SERVICE_PAGE, decode_cursor, encode_cursor, parse_limit, service_cursor
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


MAX_ROUNDS = 20  # service pages one HTTP page may read while the tenant filter drops items


def _list_handler(route: Route) -> Any:
    async def handle(request: web.Request) -> web.Response:
        p = principal(request)
        tenant = resolve_tenant(request, p, required=False)
        require(p, route.role, tenant, request.match_info.get("namespace", ""))
        limit = parse_limit(request.query.get("limit"))
        after = decode_cursor(request.query.get("cursor"))
        payload: dict[str, Any] = {**request.match_info}
        for f in route.filters:
            if f in request.query:
                payload[f] = request.query[f]
        if tenant is not None:
            payload["tenant"] = tenant
        if route.items_from:
            return await _items_of_get(request, route, payload, tenant, limit=limit, after=after)
        # page with the service: the HTTP cursor is the service's cursor, passed through as ``after``
        g = gw(request)
        page: list[Any] = []
        cursor, more, totals = after, False, {}
        for _ in range(MAX_ROUNDS):
            want = limit - len(page)
            reply = await g.backend.query(
                route.service, route.op, {**payload, "limit": want, "after": cursor}, within=g.settings.query_timeout
            )
            items = reply.get("items", []) if isinstance(reply, dict) else reply
            if not isinstance(items, list):
                raise ApiError(502, f"{route.service} answered {route.op} without an items list")
            if isinstance(reply, dict):
                totals = {k: reply[k] for k in LIST_TOTALS if k in reply}
            if len(items) > want:  # a service that ignores limit: continue after the last one taken
                items, reply = items[:want], None
            # Defence in depth: never pass on another tenant's item, whatever the service sent.
            page += [i for i in items if _visible(i, tenant)]
            previous = cursor
            cursor = service_cursor(reply, items, route.key) if len(items) >= want else None
            more = cursor is not None and cursor != previous
            if not more or len(page) >= limit:
                break
        body: dict[str, Any] = {"items": page, "next_cursor": encode_cursor(cursor) if more and cursor else None}
        # what the service says beside its items (cluster-manager: how many more may be created)
        body.update(totals)
        return web.json_response(body)

    return handle


async def _items_of_get(
    request: web.Request, route: Route, payload: dict[str, Any], tenant: str | None, *, limit: int, after: str | None
) -> web.Response:
    """A list that is a field of one item (a cluster's timeline): paged here, by ``route.key``."""
    g = gw(request)
    reply = await g.backend.query(route.service, route.op, payload, within=g.settings.query_timeout)
    if not isinstance(reply, dict):
        raise ApiError(502, f"{route.service} answered {route.op} with a {type(reply).__name__}")
    if tenant is not None and reply.get("tenant", tenant) != tenant:
        raise ApiError(404, f"{request.path} not found")
    items = reply.get(route.items_from)
    items = [] if items is None else items  # nothing happened yet
    if not isinstance(items, list):
        raise ApiError(502, f"{route.service} answered {route.op} without an items list")
    visible = sorted((i for i in items if _visible(i, tenant)), key=lambda i: str(i.get(route.key, "")))
    if after is not None:
        visible = [i for i in visible if str(i.get(route.key, "")) > after]
    page = visible[:limit]
    more = len(visible) > limit
    cursor = encode_cursor(str(page[-1].get(route.key, ""))) if more and page else None
    return web.json_response({"items": page, "next_cursor": cursor})


def _get_handler(route: Route) -> Any:
    async def handle(request: web.Request) -> web.Response:
        p = principal(request)
        tenant = resolve_tenant(request, p, required=False)
        require(p, route.role, tenant, request.match_info.get("namespace", ""))
        payload = _renamed(route, dict(request.match_info))
        for f in route.filters:
            if f in request.query:
                payload[f] = request.query[f]
        if tenant is not None:
            payload["tenant"] = tenant
        if route.caller_field:
            payload[route.caller_field] = p.user
        g = gw(request)
        if route.owner is not None and tenant is not None:
            await _owned(request, route.owner, payload, tenant)
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


async def _owned(request: web.Request, owner: tuple[str, str], payload: dict[str, Any], tenant: str) -> None:
    """404 unless the owner op shows the path's item in ``tenant`` (for ops that answer for any name)."""
    g = gw(request)
    service, op = owner
    reply = await g.backend.query(service, op, payload, within=g.settings.query_timeout)
    if not isinstance(reply, dict) or reply.get("tenant", tenant) != tenant:
        raise ApiError(404, f"{request.path} not found")


def _call_handler(route: Route) -> Any:
    async def handle(request: web.Request) -> web.Response:
        p = principal(request)
        request[ACTION] = route.name
        tenant = resolve_tenant(request, p, required=True)
        assert tenant is not None
        if not route.grant:  # a grant checks the rights it passes on where they apply (grants.py)
            require(p, route.role, tenant, request.match_info.get("namespace", ""))
        g = gw(request)
        shape = body_of(route, g.registry)
        fields = shape.read(await read_json(request), what="request body")
        if route.grant:
            fields = granted(p, tenant, fields)
        params = _renamed(route, dict(request.match_info))
        payload = {**fields, **params, "tenant": tenant, "requested_by": p.user, "by": p.user}
        if shape.source is not None and "by" not in shape.source.model_fields:
            del payload["by"]  # only for requests that record who asked under that name
        if shape.source is not None:
            try:
                strict(shape.source, payload)
            except ValidationError as exc:
                raise invalid(exc, what=f"request for {route.service} {route.op}") from None
        reply = await g.backend.query(route.service, route.op, payload, within=g.settings.query_timeout)
        if not isinstance(reply, dict):
            raise ApiError(502, f"{route.service} answered {route.op} with a {type(reply).__name__}")
        status = route.status or (201 if request.method == "POST" else 200)
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
    for _ in range(1000):
        reply = await g.backend.query(
            route.service,
            route.via_list,
            {**payload, "limit": SERVICE_PAGE, "after": after},
            within=g.settings.query_timeout,
        )
        items = reply.get("items", []) if isinstance(reply, dict) else []
        if not isinstance(items, list):
            break
        for item in items:
            if isinstance(item, dict) and item.get(route.key) == wanted:
                return item
        if len(items) < SERVICE_PAGE:
            break
        nxt = service_cursor(reply, items, route.key)
        if nxt is None or nxt == after:
            break
        after = nxt
    raise ApiError(404, f"{request.path} not found")


def _command_handler(route: Route) -> Any:
    async def handle(request: web.Request) -> web.Response:
        p = principal(request)
        request[ACTION] = route.name
        g = gw(request)
        key = request.headers.get("Idempotency-Key")
        if key is None or request.method != "POST":
            return await _run_command(route, request, op_id=new_operation_id())
        tenant = resolve_tenant(request, p, required=True)
        assert tenant is not None
        scope = Scope(tenant=tenant, user=p.user, method=request.method, path=request.path, key=key)
        raw = await request.read()
        reservation = await g.idempotency.begin(scope, body=raw)
        if reservation.stored is not None:
            stored = reservation.stored
            return web.json_response(stored["body"], status=stored["status"], headers=stored["headers"])
        try:
            resp = await _run_command(route, request, op_id=reservation.op_id, resend=reservation.resend, key=key)
        except ApiError as err:
            if err.extra.get("operation") is not None:  # not handed: keep the key for a safe retry
                await g.idempotency.unconfirmed(scope, body=raw, op_id=reservation.op_id)
            else:
                await g.idempotency.finish(scope, status=err.status, body=err.body(instance=request.path), headers={})
            raise
        except BaseException:
            await g.idempotency.finish(scope, status=500, body=None, headers={})
            raise
        assert resp.text is not None
        await g.idempotency.finish(
            scope,
            status=resp.status,
            body=json.loads(resp.text),
            headers={"Location": resp.headers.get("Location", "")},
        )
        return resp

    return handle


async def _run_command(
    route: Route, request: web.Request, *, op_id: str, resend: bool = False, key: str | None = None
) -> web.Response:
    p = principal(request)
    tenant = resolve_tenant(request, p, required=True)
    assert tenant is not None
    g = gw(request)
    spec = command_spec(g.registry, route.service, route.op)
    shape = body_of(route, g.registry)
    fields = shape.read(await read_json(request), what="request body")
    namespace = request.match_info.get("namespace", "") or str(fields.get("namespace", "") or "")
    require(p, route.role, tenant, namespace)
    params = _renamed(route, dict(request.match_info))
    user = {"requested_by": p.user, "by": p.user, "created_by": p.user}
    fixed = dict(route.fixed)
    if route.wrap:
        inner, beside = shape.split(fields)
        inner |= {field: request.match_info[param] for param, field in route.inner}
        if route.wrap_tenant and shape.source is not None and "tenant" in shape.source.model_fields:
            inner["tenant"] = tenant
        top = {k: v for k, v in params.items() if k != route.wrap}
        payload: dict[str, Any] = {"tenant": tenant, **top, **user, **beside, **fixed, route.wrap: inner}
    else:
        payload = {**fields, **params, "tenant": tenant, **user, **fixed}
    model: type[BaseModel] = spec.model
    if model.model_config.get("extra") != "allow":
        # what the gateway adds and the command does not name (the caller's own fields were checked)
        known = names_of(model)
        added = {"tenant", *user, *params}
        payload = {k: v for k, v in payload.items() if k in known or k not in added}
    try:
        command = strict(model, payload)
    except ValidationError as exc:
        # the schema's rules: name the field as the caller sent it
        raise invalid(exc, what=f"request for {route.service} {route.op}", strip=route.wrap) from None
    target = route.target.format_map(_Blank({**fields, **request.match_info}))
    location = {"Location": f"/api/v1/operations/{op_id}"}
    existing = await g.operations.get(op_id) if resend else None
    if existing is not None and (existing["state"] != "pending" or existing["steps"]):
        # the earlier try did reach the service: nothing to send again
        return web.json_response({"operation": public(existing)}, status=202, headers=location)
    if route.validate and existing is None:
        await _service_validation(request, route, payload, tenant)
    if existing is None:
        operation = await g.operations.create(
            op_id=op_id,
            kind=route.name,
            target=target,
            tenant=tenant,
            user=p.user,
            done=route.done,
            confirm=_confirm(route, target, present=request.method != "DELETE"),
        )
    else:
        operation = public(existing)
    # the envelope id follows the operation: a re-sent command is deduplicated by JetStream
    env = command_envelope(spec, command, tenant=tenant, subject=target, correlationid=op_id, id=envelope_id(op_id))
    try:
        await g.backend.send(env)
    except Exception as exc:
        raise await _not_handed(request, route, operation, exc, key=key, location=location) from None
    return web.json_response({"operation": operation}, status=202, headers=location)


def envelope_id(op_id: str) -> str:
    return "cmd-" + op_id


async def _not_handed(
    request: web.Request,
    route: Route,
    operation: dict[str, Any],
    exc: Exception,
    *,
    key: str | None,
    location: dict[str, str],
) -> ApiError:
    """The 503 for a command the bus did not acknowledge. It may still have been queued (a lost
    ack), so the operation stays open and trackable, and the answer names the Idempotency-Key
    whose retry re-sends the same envelope (deduplicated) instead of a second command."""
    g = gw(request)
    op_id = str(operation["id"])
    if key is None:
        key = "auto-" + op_id
        p = principal(request)
        tenant = str(operation["tenant"])
        scope = Scope(tenant=tenant, user=p.user, method=request.method, path=request.path, key=key)
        await g.idempotency.unconfirmed(scope, body=await request.read(), op_id=op_id)
    why = type(exc).__name__
    message = (
        f"the {route.op} command was not acknowledged by the bus ({why}); it was probably not queued, "
        f"but may have been: retry with the header Idempotency-Key: {key} to send it again without "
        "applying it twice; this operation completes if the command arrives"
    )
    tracked = await g.operations.unconfirmed(op_id, message) or operation
    return ApiError(
        503,
        f"could not confirm handing the {route.op} command to {route.service} ({why}): {message}",
        headers={**location, "Retry-After": "5", "Idempotency-Key": key},
        extra={"operation": tracked},
    )


def _confirm(route: Route, target: str, *, present: bool) -> dict[str, Any] | None:
    if not route.confirm:
        return None
    out: dict[str, Any] = {
        "service": route.service,
        "op": route.confirm,
        "key": route.key,
        "value": target.rsplit("/", 1)[-1],
        "present": present,
    }
    if route.confirm_param:
        out["param"] = route.confirm_param
    return out


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
