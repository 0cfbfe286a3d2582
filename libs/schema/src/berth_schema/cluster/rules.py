"""How the forms' rules refuse a value: every problem at once, each located at its field, as
one pydantic ValidationError (so a producer, the gateway and the service name the same fields)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError


@dataclass(frozen=True, slots=True)
class Problem:
    """One broken rule: where (a field, or a field and a key inside it) and why."""

    loc: tuple[str, ...]
    message: str

    @property
    def field(self) -> str:
        return ".".join(self.loc)


def problem(field: str, message: str, *keys: str) -> Problem:
    return Problem((field, *keys), message)


def refuse(title: str, problems: Sequence[Problem], values: Any) -> ValidationError:
    """The ValidationError listing ``problems``; raise it from a model validator."""
    details = [
        InitErrorDetails(
            type=PydanticCustomError("invalid", "{reason}", {"reason": p.message}),
            loc=p.loc,
            input=_at(values, p.loc),
        )
        for p in problems
    ]
    return ValidationError.from_exception_data(title, details)


def _at(values: Any, loc: tuple[str, ...]) -> Any:
    for key in loc:
        values = values.get(key) if isinstance(values, dict) else getattr(values, key, None)
    return values
