"""A typed registry of event and command models.

Each message ``type`` (``berth.cluster.created.v1``) maps to one pydantic model for
its ``data`` and to the NATS subject it travels on. Facts go to
``berth.evt.<domain>.<event>``; commands to ``berth.cmd.<service>.<verb>``.
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


class Registry:
    def __init__(self) -> None:
        self._by_type: dict[str, MessageSpec] = {}
        self._by_model: dict[type[BaseModel], MessageSpec] = {}

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
