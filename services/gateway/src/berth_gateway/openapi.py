"""The OpenAPI 3.1 document, generated from the route table and the pydantic models."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from . import models as m
from .bodies import body_of
from .routes import ROUTES, Route

REF = "#/components/schemas/{model}"
JSON = "application/json"
PROBLEM = "application/problem+json"


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _problem(desc: str) -> dict[str, Any]:
    return {"description": desc, "content": {PROBLEM: {"schema": _ref(m.Problem)}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {
        400: "Bad request",
        401: "Unauthenticated",
        403: "Forbidden",
        404: "Not found",
        409: "Conflict",
        413: "Body too large",
        415: "Not JSON",
        422: "Invalid fields",
        429: "Rate limited",
        503: "Service does not offer this yet",
        504: "Service timeout",
    }
    return {str(c): _problem(text[c]) for c in codes}


def _param(
    name: str, where: str, *, required: bool = False, schema: dict[str, Any] | None = None, description: str = ""
) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "in": where, "required": required, "schema": schema or {"type": "string"}}
    if description:
        out["description"] = description
    return out


PATH_SCHEMA = {"type": "string", "pattern": r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", "maxLength": 63}
TENANT = _param("X-Berth-Tenant", "header", schema=PATH_SCHEMA, description="the tenant to act in")
PAGING = [
    _param("limit", "query", schema={"type": "integer", "minimum": 1, "maximum": 500}),
    _param("cursor", "query", description="opaque next_cursor of the previous page"),
]


def _path_params(path: str) -> list[dict[str, Any]]:
    return [_param(n, "path", required=True, schema=PATH_SCHEMA) for n in re.findall(r"{(\w+)}", path)]


def _operation(route: Route) -> dict[str, Any]:
    op: dict[str, Any] = {
        "operationId": re.sub(r"[^A-Za-z0-9]+", "_", f"{route.method}_{route.path}").strip("_"),
        "summary": route.summary,
        "tags": [route.tag],
        "parameters": [*_path_params(route.path), TENANT],
        "x-berth-backend": {"service": route.service, "op": route.op, "kind": route.kind, "role": route.role},
    }
    if route.kind == "list":
        op["parameters"] += PAGING + [_param(f, "query") for f in route.filters]
        op["responses"] = {
            "200": {"description": "A page", "content": {JSON: {"schema": _ref(m.Page)}}},
            **_errors(400, 401, 403, 422, 429, 503, 504),
        }
    elif route.kind == "get":
        op["parameters"] += [_param(f, "query") for f in route.filters]
        op["responses"] = {
            "200": {"description": "The resource", "content": {JSON: {"schema": {"type": "object"}}}},
            **_errors(401, 403, 404, 422, 429, 503, 504),
        }
    elif route.kind == "call":
        body = body_of(route).model
        if body is not None:
            op["requestBody"] = {"required": False, "content": {JSON: {"schema": _ref(body)}}}
        op["responses"] = {
            str(route.status or (201 if route.method == "POST" else 200)): {
                "description": "The result (not stored by caches)",
                "content": {JSON: {"schema": {"type": "object"}}},
            },
            **_errors(400, 401, 403, 404, 409, 415, 422, 429, 503, 504),
        }
    else:
        if route.method == "POST":
            op["parameters"].append(_param("Idempotency-Key", "header", schema={"type": "string", "maxLength": 255}))
        body = body_of(route).model
        if body is not None:
            op["requestBody"] = {"required": True, "content": {JSON: {"schema": _ref(body)}}}
        op["responses"] = {
            "202": {
                "description": "Accepted; poll the operation",
                "headers": {"Location": {"schema": {"type": "string"}}},
                "content": {JSON: {"schema": _ref(m.Accepted)}},
            },
            **_errors(400, 401, 403, 409, 413, 415, 422, 429, 503),
        }
    op["security"] = [{"bearer": []}]
    return op


def _local(
    summary: str,
    tag: str,
    *,
    body: type[BaseModel] | None = None,
    response: type[BaseModel] | None = None,
    status: str = "200",
    params: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "tags": [tag], "parameters": params or [], "security": [{"bearer": []}]}
    if body is not None:
        op["requestBody"] = {"required": True, "content": {JSON: {"schema": _ref(body)}}}
    content = {JSON: {"schema": _ref(response) if response else {"type": "object"}}}
    op["responses"] = {
        status: {"description": "OK", **({"content": content} if status != "204" else {})},
        **_errors(400, 401, 403, 404, 409, 415, 422, 429),
    }
    return op


def _local_paths() -> dict[str, dict[str, Any]]:
    t = [_param("tenant", "path", required=True, schema=PATH_SCHEMA)]
    return {
        "/api/v1/whoami": {"get": _local("The caller and their role bindings", "auth")},
        "/api/v1/services": {"get": _local("The services and whether they answer", "platform")},
        "/api/v1/tenants": {
            "get": _local("List tenants", "tenants", response=m.Page, params=PAGING),
            "post": _local("Create a tenant", "tenants", body=m.TenantCreate, status="201"),
        },
        "/api/v1/tenants/{tenant}": {"get": _local("Get a tenant", "tenants", params=t)},
        "/api/v1/tenants/{tenant}/members": {
            "get": _local("List role bindings", "tenants", params=t),
            "post": _local("Bind a role", "tenants", body=m.MemberBind, status="201", params=t),
        },
        "/api/v1/tenants/{tenant}/members/{user}": {
            "delete": _local(
                "Remove a binding",
                "tenants",
                status="204",
                params=[*t, _param("user", "path", required=True), _param("namespace", "query")],
            )
        },
        "/api/v1/tenants/{tenant}/groups/{group}": {
            "delete": _local(
                "Remove an IdP group's binding",
                "tenants",
                status="204",
                params=[*t, _param("group", "path", required=True), _param("namespace", "query")],
            )
        },
        "/api/v1/tokens": {
            "get": _local("My API tokens", "auth"),
            "post": _local(
                "Issue an API token (shown once)", "auth", body=m.TokenCreate, response=m.TokenCreated, status="201"
            ),
        },
        "/api/v1/tokens/{token}": {
            "delete": _local("Revoke a token", "auth", status="204", params=[_param("token", "path", required=True)])
        },
        "/api/v1/operations/{operation}": {
            "get": _local(
                "Poll a long operation",
                "operations",
                response=m.Operation,
                params=[_param("operation", "path", required=True)],
            )
        },
        "/api/v1/audit": {
            "get": _local(
                "The audit log",
                "audit",
                response=m.Page,
                params=[TENANT, *PAGING, _param("user", "query"), _param("method", "query"), _param("result", "query")],
            )
        },
        "/api/v1/events": {
            "get": {
                "summary": "Server-Sent Events of the facts you may see",
                "tags": ["events"],
                "security": [{"bearer": []}],
                "parameters": [
                    TENANT,
                    _param("cluster", "query"),
                    _param("type", "query"),
                    _param("Last-Event-ID", "header", schema={"type": "string", "pattern": "^[0-9]+$"}),
                ],
                "responses": {
                    "200": {"description": "text/event-stream", "content": {"text/event-stream": {}}},
                    **_errors(400, 401, 403, 422),
                },
            }
        },
        "/api/v1/chat-bindings": {
            "post": _local("Bind a chat user to a Berth user", "chatops", body=m.ChatBindingCreate, status="201")
        },
    }


def build_openapi() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    paths.update(_local_paths())
    bodies = (body_of(route).model for route in ROUTES if route.kind in ("command", "call"))
    models: set[type[BaseModel]] = {b for b in bodies if b is not None} | {
        m.Page,
        m.Operation,
        m.Accepted,
        m.Problem,
        m.TenantCreate,
        m.MemberBind,
        m.TokenCreate,
        m.TokenCreated,
        m.ChatBindingCreate,
    }
    ordered: list[type[BaseModel]] = sorted(models, key=lambda c: c.__name__)
    _, schema = models_json_schema([(model, "validation") for model in ordered], ref_template=REF)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Berth API",
            "version": "1.0.0",
            "description": "Berth container platform: clusters, nodes, registries, releases, alerts, DR.",
        },
        "paths": paths,
        "components": {
            "schemas": schema.get("$defs", {}),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
