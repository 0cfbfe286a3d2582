"""HTTP bodies come from the schema: a route's body is the fields of the command (or typed query
request) it sends, minus what the gateway fills in itself (the tenant, the caller, the path
parameters, the route's fixed fields). The schema model validates the body; a field it does not
name is a 422 naming it.

A route that wraps (put-channel carries ``channel: Channel``) takes the wrapped model's fields as
its body, plus the command's own optional fields beside it (set-config's ``restart``); a path
parameter the route maps ``inner`` sets the wrapped model's field (PUT /channels/{channel} sets
``channel.name``). Where the schema carries a body as an untyped ``dict``, the route's own form
model stands in (or, without one, the route takes the command's fields as they are).
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
    path: frozenset[str]  # the service's names of the path parameters (and of the route's fixed fields)
    open: bool = False  # a form that passes fields it does not name on to the service
    outer: frozenset[str] = frozenset()  # wrapped routes: body fields that belong beside the wrap, not in it

    def split(self, data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """A wrapped route's body as (the wrapped model's fields, the command's own fields)."""
        inner = {k: v for k, v in data.items() if k not in self.outer}
        return inner, {k: v for k, v in data.items() if k in self.outer}

    def unknown(self, data: dict[str, Any]) -> list[dict[str, str]]:
        out = []
        for key in data:
            if key in self.fields or (self.open and key not in self.path and key not in FILLED):
                continue
            if key in self.path:
                why = "set by the URL path (or for the caller), not the body"
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
    """Names the route sets itself: its path parameters (as the service names them) and its fixed fields."""
    renamed = dict(route.rename)
    caller = {"user"} if route.grant else set()
    return frozenset(renamed.get(p, p) for p in route.params) | {name for name, _ in route.fixed} | caller


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
        set_inside = frozenset(field for _, field in route.inner)
        drop = ({"tenant"} if route.wrap_tenant else set()) | set_inside
        beside = {
            n: i
            for n, i in model.model_fields.items()
            if n != route.wrap and n not in FILLED and n not in path and n not in inner.model_fields
        }
        name = _name(route, inner, set_inside)
        return _derived(
            inner, name=name, drop=frozenset(drop), path=path | set_inside, outer=beside, outer_source=model
        )
    return _derived(model, name=_name(route, model, path), drop=FILLED | path, path=path)


def _name(route: Route, source: type[BaseModel], set_by_path: frozenset[str]) -> str:
    """The documented body's name: ``<Model>Body``; ``<Model>UpdateBody`` for a PUT whose path names
    the item, and the route's fixed fields after the model, as those bodies lack fields the create's has."""
    last = route.params[-1] if route.params else ""
    named = dict(route.inner).get(last) or dict(route.rename).get(last, last)
    update = route.method == "PUT" and named in set_by_path and named in source.model_fields
    fixed = "".join(name.title().replace("_", "") for name, _ in route.fixed)  # :expire -> SilenceAlertsExpireBody
    return f"{source.__name__}{'Update' if update else ''}{fixed}Body"


def _form(route: Route, path: frozenset[str]) -> Body:
    form = route.body
    fields = names_of(form) if form is not None else frozenset()
    open_form = form is not None and form.model_config.get("extra") == "allow"
    return Body(source=None, fields=fields, form=form, model=form, path=path, open=open_form)


def _derived(
    source: type[BaseModel],
    *,
    name: str,
    drop: frozenset[str],
    path: frozenset[str],
    outer: dict[str, FieldInfo] | None = None,
    outer_source: type[BaseModel] | None = None,
) -> Body:
    keep = {n: i for n, i in source.model_fields.items() if n not in drop}
    keep.update(outer or {})
    if not keep:
        return Body(source=source, fields=frozenset(), form=None, model=None, path=path)
    defs: dict[str, Any] = {n: (i.annotation, FieldInfo.merge_field_infos(i)) for n, i in keep.items()}
    documented = create_model(
        name,
        __config__=ConfigDict(extra="forbid"),
        __doc__=source.__doc__,
        **defs,
    )
    fields = names_of(source, drop=drop)
    beside: frozenset[str] = frozenset()
    if outer and outer_source is not None:
        beside = names_of(outer_source, drop=frozenset(set(outer_source.model_fields) - set(outer)))
    return Body(source=source, fields=fields | beside, form=None, model=documented, path=path, outer=beside)
