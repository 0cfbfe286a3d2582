"""Resources the gateway owns itself: tenants, members, tokens, operations, audit, chat bindings."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web
from berth_common.store import AlreadyExists

from . import models as m
from .auth.bindings import GROUP_PREFIX
from .context import ACTION, AUDIT_DETAIL, TENANT, gw, principal, read_model, require, resolve_tenant
from .operations import public
from .pagination import decode_cursor, encode_cursor, parse_limit
from .problems import ApiError
from .routes import CM, DR, MA, NM, RO, RS

SERVICE_NAMES = (CM, NM, RS, RO, MA, DR, "gateway")
CHAT_BINDINGS = "chat_bindings"


def _page(items: list[dict[str, Any]], limit: int, key: str) -> dict[str, Any]:
    more = len(items) > limit
    page = items[:limit]
    return {"items": page, "next_cursor": encode_cursor(str(page[-1][key])) if more and page else None}


async def whoami(request: web.Request) -> web.Response:
    p = principal(request)
    return web.json_response(
        {
            "user": p.user,
            "via": p.via,
            "bindings": [{"tenant": b.tenant, "role": b.role, "namespace": b.namespace} for b in p.bindings],
        }
    )


async def list_services(request: web.Request) -> web.Response:
    principal(request)
    g = gw(request)

    async def one(name: str) -> dict[str, Any]:
        try:
            return {"name": name, "status": "up", **await g.backend.query(name, "info", {}, within=2.0)}
        except ApiError as exc:
            return {"name": name, "status": "down", "error": exc.detail}

    items = await asyncio.gather(*(one(n) for n in SERVICE_NAMES))
    return web.json_response({"items": list(items), "next_cursor": None})


async def list_tenants(request: web.Request) -> web.Response:
    p = principal(request)
    g = gw(request)
    limit = parse_limit(request.query.get("limit"))
    after = decode_cursor(request.query.get("cursor"))
    if p.is_platform_admin:
        items = await g.directory.list_tenants(after=after, limit=limit + 1)
    else:
        found = [await g.directory.tenant(t) for t in p.tenants() if after is None or t > after]
        items = [t for t in found if t is not None][: limit + 1]
    return web.json_response(_page(items, limit, "name"))


async def create_tenant(request: web.Request) -> web.Response:
    p = principal(request)
    request[ACTION] = "gateway.create-tenant"
    require(p, "platform-admin", None)
    body = await read_model(request, m.TenantCreate)
    request[TENANT] = body.name
    try:
        data = await gw(request).directory.create_tenant(body.name, body.display_name, p.user)
    except AlreadyExists:
        raise ApiError(
            409, f"tenant {body.name} already exists", errors=[{"field": "name", "message": "already exists"}]
        ) from None
    return web.json_response(data, status=201, headers={"Location": f"/api/v1/tenants/{body.name}"})


async def _tenant_param(request: web.Request, role: str) -> str:
    p = principal(request)
    tenant = request.match_info["tenant"]
    request[TENANT] = tenant
    require(p, role, tenant)
    if await gw(request).directory.tenant(tenant) is None:
        raise ApiError(404, f"tenant {tenant} not found")
    return tenant


async def get_tenant(request: web.Request) -> web.Response:
    tenant = await _tenant_param(request, "viewer")
    return web.json_response(await gw(request).directory.tenant(tenant))


async def list_members(request: web.Request) -> web.Response:
    tenant = await _tenant_param(request, "viewer")
    items = await gw(request).directory.members(tenant)
    return web.json_response({"items": items, "next_cursor": None})


async def bind_member(request: web.Request) -> web.Response:
    request[ACTION] = "gateway.bind-member"
    tenant = await _tenant_param(request, "tenant-admin")
    body = await read_model(request, m.MemberBind)
    p = principal(request)
    if body.role == "platform-admin":
        raise ApiError(
            422,
            "platform-admin is not bound per tenant",
            errors=[{"field": "role", "message": "platform-admin cannot be bound to a tenant"}],
        )
    if body.role == "tenant-admin" and not p.can("tenant-admin", tenant):
        raise ApiError(403, f"{p.user} cannot grant tenant-admin")
    data = await gw(request).directory.bind(
        tenant=tenant, user=body.user, group=body.group, role=body.role, namespace=body.namespace
    )
    return web.json_response(data, status=201)


async def unbind_member(request: web.Request) -> web.Response:
    request[ACTION] = "gateway.unbind-member"
    tenant = await _tenant_param(request, "tenant-admin")
    user = request.match_info["user"]
    ns = request.query.get("namespace", "")
    if not await gw(request).directory.unbind(tenant=tenant, user=user, namespace=ns):
        raise ApiError(404, f"{user} has no binding in tenant {tenant}")
    return web.Response(status=204)


async def unbind_group(request: web.Request) -> web.Response:
    request[ACTION] = "gateway.unbind-group"
    tenant = await _tenant_param(request, "tenant-admin")
    group = request.match_info["group"]
    ns = request.query.get("namespace", "")
    if not await gw(request).directory.unbind(tenant=tenant, user=GROUP_PREFIX + group, namespace=ns):
        raise ApiError(404, f"group {group} has no binding in tenant {tenant}")
    return web.Response(status=204)


async def create_token(request: web.Request) -> web.Response:
    request[ACTION] = "gateway.create-token"
    p = principal(request)
    body = await read_model(request, m.TokenCreate)
    issued = await gw(request).tokens.issue(user=p.user, name=body.name, days=body.expires_in_days)
    return web.json_response(
        {"id": issued.id, "name": issued.name, "token": issued.token, "expires_at": issued.expires_at}, status=201
    )


async def list_tokens(request: web.Request) -> web.Response:
    p = principal(request)
    return web.json_response({"items": await gw(request).tokens.list_for(p.user), "next_cursor": None})


async def revoke_token(request: web.Request) -> web.Response:
    request[ACTION] = "gateway.revoke-token"
    p = principal(request)
    g = gw(request)
    token_id = request.match_info["token"]
    mine = {t["id"] for t in await g.tokens.list_for(p.user)}
    if token_id not in mine and not p.is_platform_admin:
        raise ApiError(404, f"token {token_id} not found")
    rec = await g.tokens.col.get(token_id)
    if rec is None:
        raise ApiError(404, f"token {token_id} not found")
    await g.tokens.revoke(token_id)
    return web.Response(status=204)


async def get_operation(request: web.Request) -> web.Response:
    p = principal(request)
    g = gw(request)
    data = await g.operations.get(request.match_info["operation"])
    if data is None or not (p.is_platform_admin or p.can("viewer", data["tenant"])):
        raise ApiError(404, f"operation {request.match_info['operation']} not found")
    data = await g.operations.confirm(data, g.backend, within=g.settings.query_timeout)
    return web.json_response(public(data))


async def list_audit(request: web.Request) -> web.Response:
    p = principal(request)
    tenant = resolve_tenant(request, p, required=False)
    require(p, "tenant-admin", tenant)
    where: dict[str, Any] = {}
    if tenant is not None:
        where["tenant"] = tenant
    for f in ("user", "method", "result"):
        if f in request.query:
            where[f] = request.query[f]
    limit = parse_limit(request.query.get("limit"))
    after = decode_cursor(request.query.get("cursor"))
    items = await gw(request).audit.query(where=where, after=after, limit=limit + 1)
    return web.json_response(_page(items, limit, "id"))


async def create_chat_binding(request: web.Request) -> web.Response:
    """Bind a chat user to a Berth user: callers bind themselves; binding someone else, or
    replacing a chat user's binding to someone else, needs tenant-admin of the tenant the binding
    belongs to (or platform-admin), and the audit row says whose binding was replaced."""
    request[ACTION] = "gateway.bind-chat-user"
    p = principal(request)
    body = await read_model(request, m.ChatBindingCreate)
    g = gw(request)
    tenant = resolve_tenant(request, p, required=False)
    if body.user != p.user and not p.is_platform_admin:
        if tenant is None or not p.can("tenant-admin", tenant):
            raise ApiError(403, f"{p.user} may bind only their own chat user (binding {body.user} needs tenant-admin)")
        if not any(b.tenant == tenant for b in await g.directory.bindings_of(body.user)):
            raise ApiError(403, f"{body.user} has no role in tenant {tenant}")
    col = g.store.collection(CHAT_BINDINGS)
    key = f"{body.platform}|{body.chat_user}"
    rec = await col.get(key)
    replaced = ""
    if rec is not None and rec.data["user"] != p.user:
        owner_tenant = str(rec.data.get("tenant") or "")
        if not (p.is_platform_admin or (owner_tenant and p.can("tenant-admin", owner_tenant))):
            where = f"tenant-admin of {owner_tenant}" if owner_tenant else "a platform-admin"
            raise ApiError(
                403,
                f"{body.platform} user {body.chat_user} is bound to another Berth user; only {where} may rebind it",
            )
        replaced = f"replaced the binding of {body.platform} user {body.chat_user} to {rec.data['user']}"
        if owner_tenant:
            request[TENANT] = owner_tenant
    data = {**body.model_dump(), "tenant": tenant or "", "bound_by": p.user}
    if rec is None:
        await col.create(key, data)
    else:
        await col.replace(key, data, expected_version=rec.version)
    request[AUDIT_DETAIL] = replaced or f"bound {body.platform} user {body.chat_user} to {body.user}"
    return web.json_response(data, status=201)


def add_local_routes(app: web.Application) -> None:
    r = app.router
    r.add_get("/api/v1/whoami", whoami)
    r.add_get("/api/v1/services", list_services)
    r.add_get("/api/v1/tenants", list_tenants)
    r.add_post("/api/v1/tenants", create_tenant)
    r.add_get("/api/v1/tenants/{tenant}", get_tenant)
    r.add_get("/api/v1/tenants/{tenant}/members", list_members)
    r.add_post("/api/v1/tenants/{tenant}/members", bind_member)
    r.add_delete("/api/v1/tenants/{tenant}/members/{user}", unbind_member)
    r.add_delete("/api/v1/tenants/{tenant}/groups/{group}", unbind_group)
    r.add_post("/api/v1/tokens", create_token)
    r.add_get("/api/v1/tokens", list_tokens)
    r.add_delete("/api/v1/tokens/{token}", revoke_token)
    r.add_get("/api/v1/operations/{operation}", get_operation)
    r.add_get("/api/v1/audit", list_audit)
    r.add_post("/api/v1/chat-bindings", create_chat_binding)
