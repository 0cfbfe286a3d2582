"""Refusals that name every bad field by its full path (the paths come from the schema's rules)."""

from __future__ import annotations

from collections.abc import Iterable

from berth_schema.release.errors import paths
from pydantic import ValidationError


class Invalid(ValueError):
    """One or more bad fields; ``errors`` is ``[(field path, message)]``."""

    def __init__(self, errors: Iterable[tuple[str, str]]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(f"{f}: {m}" for f, m in self.errors) or "invalid")

    def as_dicts(self) -> list[dict[str, str]]:
        return [{"field": f, "message": m} for f, m in self.errors]


def from_validation(exc: ValidationError, prefix: str = "") -> Invalid:
    return Invalid(paths(exc, prefix))


def require(errors: list[tuple[str, str]]) -> None:
    if errors:
        raise Invalid(errors)
