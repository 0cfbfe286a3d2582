"""A typed registry of event, command and query models.

Each message ``type`` (``berth.cluster.created.v1``) maps to one pydantic model for
its ``data`` and to the NATS subject it travels on. Facts go to
``berth.evt.<domain>.<event>``; commands to ``berth.cmd.<service>.<verb>``. Each query
``berth.api.<service>.<op>`` maps to a request model and a reply model.

This module is the mechanism only: the models themselves live in libs/schema.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from .envelope import Envelope

Kind = Literal["event", "command"]
M = TypeVar("M", bound=BaseModel)


class MessageRejected(ValueError):
    """A message that cannot be accepted; ``reason`` says why (unknown type, bad data)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class MessageSpec:
    type: str
    kind: Kind
    subject: str
    model: builtins.type[BaseModel]
    description: str


@dataclass(frozen=True, slots=True)
class QuerySpec:
    """A request/reply query: ``request`` validates what the asker sends, ``reply`` what the service answers."""

    service: str
    op: str
    request: builtins.type[BaseModel]
    reply: builtins.type[BaseModel]
    description: str

    @property
    def subject(self) -> str:
        return f"berth.api.{self.service}.{self.op}"


class Registry:
    def __init__(self) -> None:
        self._by_type: dict[str, MessageSpec] = {}
        self._by_model: dict[type[BaseModel], MessageSpec] = {}
        self._queries: dict[tuple[str, str], QuerySpec] = {}
        self._queries_by_model: dict[type[BaseModel], QuerySpec] = {}

    def register_query(self, spec: QuerySpec) -> None:
        key = (spec.service, spec.op)
        existing = self._queries.get(key)
        if existing is not None and existing.request is not spec.request:
            raise ValueError(f"query {spec.service}.{spec.op} registered twice")
        if spec.request in self._queries_by_model and self._queries_by_model[spec.request] is not existing:
            raise ValueError(f"{spec.request.__name__} is already the request of another query")
        self._queries[key] = spec
        self._queries_by_model[spec.request] = spec

    def query_spec(self, service: str, op: str) -> QuerySpec:
        try:
            return self._queries[(service, op)]
        except KeyError:
            raise MessageRejected(f"unknown query {service}.{op}") from None

    def query_for(self, model: type[BaseModel] | BaseModel) -> QuerySpec:
        cls = model if isinstance(model, type) else type(model)
        try:
            return self._queries_by_model[cls]
        except KeyError:
            raise MessageRejected(f"{cls.__name__} is not a registered query request model") from None

    def queries(self) -> list[QuerySpec]:
        return sorted(self._queries.values(), key=lambda s: (s.service, s.op))

    def has_query(self, service: str, op: str) -> bool:
        return (service, op) in self._queries

    def register(self, spec: MessageSpec) -> None:
        existing = self._by_type.get(spec.type)
        if existing is not None and existing.model is not spec.model:
            raise ValueError(f"message type {spec.type} registered twice")
        self._by_type[spec.type] = spec
        self._by_model[spec.model] = spec

    def spec_for_type(self, type_: str) -> MessageSpec:
        try:
            return self._by_type[type_]
        except KeyError:
            raise MessageRejected(f"unknown message type {type_!r}") from None

    def spec_for(self, model: type[BaseModel] | BaseModel) -> MessageSpec:
        cls = model if isinstance(model, type) else type(model)
        try:
            return self._by_model[cls]
        except KeyError:
            raise MessageRejected(f"{cls.__name__} is not a registered message model") from None

    def __iter__(self) -> Iterator[MessageSpec]:
        return iter(sorted(self._by_type.values(), key=lambda s: s.type))

    def __contains__(self, type_: object) -> bool:
        return type_ in self._by_type

    def envelope(self, payload: BaseModel, *, source: str, **attrs: Any) -> Envelope:
        """Wrap a registered payload model in an envelope of its type."""
        spec = self.spec_for(payload)
        return Envelope(source=source, type=spec.type, data=payload.model_dump(mode="json"), **attrs)

    def parse(self, raw: bytes | str) -> tuple[Envelope, BaseModel]:
        """Validate raw bytes into (envelope, typed payload) or raise MessageRejected."""
        try:
            env = Envelope.from_json(raw)
        except ValidationError as exc:
            raise MessageRejected(f"invalid envelope: {_errors(exc)}") from None
        return env, self.payload(env)

    def payload(self, env: Envelope) -> BaseModel:
        spec = self.spec_for_type(env.type)
        try:
            return spec.model.model_validate(env.data)
        except ValidationError as exc:
            raise MessageRejected(f"invalid data for {env.type}: {_errors(exc)}") from None


def errors_text(exc: ValidationError) -> str:
    """One line naming each invalid field: ``spec.name: String should match pattern ...``."""
    return _errors(exc)


def _errors(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"]) or "<root>"
        parts.append(f"{loc}: {err['msg']}")
    return "; ".join(parts)


registry = Registry()


def event(type_: str, *, domain: str, name: str, description: str = "") -> Callable[[type[M]], type[M]]:
    """Register a fact model: ``@event("berth.cluster.created.v1", domain="cluster", name="created")``."""

    def deco(cls: type[M]) -> type[M]:
        registry.register(
            MessageSpec(type_, "event", f"berth.evt.{domain}.{name}", cls, description or (cls.__doc__ or "").strip())
        )
        return cls

    return deco


def command(type_: str, *, service: str, verb: str, description: str = "") -> Callable[[type[M]], type[M]]:
    """Register a command model: ``@command("berth.cmd.cluster-manager.create.v1", service=..., verb=...)``."""

    def deco(cls: type[M]) -> type[M]:
        registry.register(
            MessageSpec(
                type_, "command", f"berth.cmd.{service}.{verb}", cls, description or (cls.__doc__ or "").strip()
            )
        )
        return cls

    return deco


def query(service: str, op: str, *, reply: type[BaseModel], description: str = "") -> Callable[[type[M]], type[M]]:
    """Register a query's request model: ``@query("cluster-manager", "get-cluster", reply=ClusterDetail)``."""

    def deco(cls: type[M]) -> type[M]:
        registry.register_query(QuerySpec(service, op, cls, reply, description or (cls.__doc__ or "").strip()))
        return cls

    return deco
