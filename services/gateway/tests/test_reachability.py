"""Every command and every typed query of the schema is reachable through the gateway: a route
sends it, or routes.INTERNAL_ONLY says why no person needs to (issue 14)."""

from __future__ import annotations

import berth_schema
from berth_common.events import registry
from berth_gateway.bodies import body_of
from berth_gateway.openapi import build_openapi
from berth_gateway.routes import INTERNAL_ONLY, ROUTES
from berth_schema import contract

_ = berth_schema.DOMAINS  # importing the schema registers every command and typed query


def schema_messages() -> dict[str, str]:
    """``service.verb`` of every command and ``service.op`` of every typed query -> its kind."""
    out: dict[str, str] = {}
    # the schema's own messages only: other tests register models of their own in the same registry
    for spec in contract.product_messages(registry):
        if spec.kind == "command":
            service, verb = spec.subject.removeprefix("berth.cmd.").split(".")[:2]
            out[f"{service}.{verb}"] = "command"
    for q in contract.product_queries(registry):
        out[f"{q.service}.{q.op}"] = "query"
    return out


def routed() -> set[str]:
    """What the routes send: the command or query op each names (not the queries they only use
    on the side, such as a create's validation or a get served from a list)."""
    return {f"{r.service}.{r.op}" for r in ROUTES}


def test_every_command_and_query_has_a_route_or_a_reason() -> None:
    messages = schema_messages()
    missing = sorted(
        f"{kind} {name}" for name, kind in messages.items() if name not in routed() and name not in INTERNAL_ONLY
    )
    assert not missing, (
        "these schema messages cannot be reached through the gateway; add a route "
        "(services/gateway/src/berth_gateway/routes_*.py) or a reason to routes.INTERNAL_ONLY: " + ", ".join(missing)
    )


def test_the_internal_only_list_is_short_honest_and_current() -> None:
    messages = schema_messages()
    assert len(INTERNAL_ONLY) <= 10
    for name, reason in INTERNAL_ONLY.items():
        assert name in messages, f"INTERNAL_ONLY names {name}, which the schema no longer defines"
        assert name not in routed(), f"{name} has a route now; drop it from INTERNAL_ONLY"
        assert len(reason) >= 20, f"say why {name} has no route"


def test_each_route_kind_matches_the_message_kind() -> None:
    messages = schema_messages()
    for r in ROUTES:
        kind = messages.get(r.name)
        if kind is None:  # a get served from a list op (get-registry): the list op is checked
            assert r.via_list, f"{r.method} {r.path}: {r.name} is not in the schema"
            continue
        assert (kind == "command") == (r.kind == "command"), f"{r.method} {r.path} sends a {kind} as a {r.kind}"


def test_openapi_lists_every_route_with_its_schema_body() -> None:
    doc = build_openapi()
    schemas = doc["components"]["schemas"]
    for r in ROUTES:
        op = doc["paths"][r.path][r.method.lower()]
        assert op["x-berth-backend"]["role"] == r.role
        body = body_of(r).model
        if body is None:
            assert "requestBody" not in op, f"{r.method} {r.path}"
            continue
        ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
        assert ref == body.__name__, f"{r.method} {r.path}"
        names = {f.alias or n for n, f in body.model_fields.items()}
        assert set(schemas[ref].get("properties", {})) >= names, f"{r.method} {r.path}"


def test_documented_bodies_do_not_share_a_name() -> None:
    by_name: dict[str, frozenset[str]] = {}
    for r in ROUTES:
        body = body_of(r).model
        if body is None:
            continue
        fields = frozenset(body.model_fields)
        assert by_name.setdefault(body.__name__, fields) == fields, f"two different bodies are named {body.__name__}"
