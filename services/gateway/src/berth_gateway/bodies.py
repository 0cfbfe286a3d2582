"""HTTP bodies come from the schema: a route's body is the fields of the command (or typed query
request) it sends, minus what the gateway fills in itself (the tenant, the caller, the path
parameters). The schema model validates the body; a field it does not name is a 422 naming it.

Where the schema still carries a body as an untyped ``dict`` (cluster-manager's ``create.spec``
and ``create-namespace.namespace``, dr-switcher's ``create-group.spec``), the route's own form
model stands in until the schema types that field; the typed schema model wins as soon as it does.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass
from typing import Any

from berth_common.events import Registry
from berth_common.events import registry as default_registry
from pydantic import AliasChoices, AliasPath, BaseModel, ConfigDict, ValidationError, create_model
from pydantic.fields import FieldInfo

from .jsonbody import strict
from .problems import ApiError, invalid
from .routes import Route

# fields the gateway sets from the request itself, never from the body
FILLED = frozenset({"tenant", "requested_by", "by", "created_by"})


@dataclass(frozen=True, kw_only=True)
class Body:
    """What a route accepts as its JSON body."""

    source: type[BaseModel] | None  # the schema model the fields belong to (None: the route's own form)
    fields: frozenset[str]  # names a caller may send
    form: type[BaseModel] | None  # a gateway form model standing in for an untyped schema field
    model: type[BaseModel] | None  # the documented body (OpenAPI); None when the route takes no body
    path: frozenset[str]  # the service's names of the path parameters
    open: bool = False  # a form that passes fields it does not name on to the service (a DR group document)

    def unknown(self, data: dict[str, Any]) -> list[dict[str, str]]:
        out = []
        for key in data:
            if key in self.fields or (self.open and key not in self.path and key not in FILLED):
                continue
            if key in self.path:
                why = "set by the URL path, not the body"
            elif key in FILLED:
                why = "set by the gateway, not the body"
            elif self.source is not None:
                why = f"unknown field: {self.source.__name__} has no field {key!r}"
            else:
                why = "unknown field"
            out.append({"field": key, "message": why})
        return out

    def read(self, data: Any, *, what: str) -> dict[str, Any]:
        """The caller's fields, checked against the names the schema knows (422 naming the others)."""
        if data is None:
            data = {}
        if not isinstance(data, dict):
            raise ApiError(422, "the body must be a JSON object", errors=[{"field": "body", "message": "object"}])
        errors = self.unknown(data)
        if errors:
            names = ", ".join(e["field"] for e in errors)
            raise ApiError(422, f"invalid {what}: {names}", errors=errors)
        if self.form is None:
            return dict(data)
        try:
            parsed = strict(self.form, data)
        except ValidationError as exc:
            raise invalid(exc) from None
        return parsed.model_dump(mode="json", exclude_none=True)


def names_of(model: type[BaseModel], *, drop: frozenset[str] = frozenset()) -> frozenset[str]:
    """Every name a model accepts for its fields (field names and their validation aliases)."""
    out: set[str] = set()
    for name, info in model.model_fields.items():
        if name in drop:
            continue
        out.add(name)
        if info.alias:
            out.add(info.alias)
        va = info.validation_alias
        choices = va.choices if isinstance(va, AliasChoices) else [va] if va is not None else []
        for choice in choices:
            if isinstance(choice, str):
                out.add(choice)
            elif isinstance(choice, AliasPath) and isinstance(choice.path[0], str):
                out.add(choice.path[0])
    return frozenset(out)


def schema_model(route: Route, registry: Registry) -> type[BaseModel] | None:
    """The schema model a route sends: the command of its verb, or the typed request of its query."""
    if route.kind == "command":
        subject = f"berth.cmd.{route.service}.{route.op}"
        return next((s.model for s in registry if s.kind == "command" and s.subject == subject), None)
    if route.kind == "call" and registry.has_query(route.service, route.op):
        return registry.query_spec(route.service, route.op).request
    return None


def path_fields(route: Route) -> frozenset[str]:
    renamed = dict(route.rename)
    return frozenset(renamed.get(p, p) for p in route.params)


def body_of(route: Route, registry: Registry = default_registry) -> Body:
    if registry is default_registry:
        return _cached(route)
    return _body(route, registry)


@functools.cache
def _cached(route: Route) -> Body:
    return _body(route, default_registry)


def _body(route: Route, registry: Registry) -> Body:
    path = path_fields(route)
    model = schema_model(route, registry)
    if model is None:
        # not in the schema (the startup check refuses such routes) or an untyped query
        return _form(route, path)
    if route.wrap:
        inner = model.model_fields[route.wrap].annotation
        if not (inspect.isclass(inner) and issubclass(inner, BaseModel)):
            return _form(route, path)
        drop = {"tenant"} if route.wrap_tenant else set()
        return _derived(inner, drop=frozenset(drop), path=path)
    return _derived(model, drop=FILLED | path, path=path)


def _form(route: Route, path: frozenset[str]) -> Body:
    form = route.body
    fields = names_of(form) if form is not None else frozenset()
    open_form = form is not None and form.model_config.get("extra") == "allow"
    return Body(source=None, fields=fields, form=form, model=form, path=path, open=open_form)


def _derived(source: type[BaseModel], *, drop: frozenset[str], path: frozenset[str]) -> Body:
    keep = {n: i for n, i in source.model_fields.items() if n not in drop}
    if not keep:
        return Body(source=source, fields=frozenset(), form=None, model=None, path=path)
    defs: dict[str, Any] = {n: (i.annotation, FieldInfo.merge_field_infos(i)) for n, i in keep.items()}
    documented = create_model(
        f"{source.__name__}Body",
        __config__=ConfigDict(extra="forbid"),
        __doc__=source.__doc__,
        **defs,
    )
    fields = names_of(source, drop=drop)
    return Body(source=source, fields=fields, form=None, model=documented, path=path)
