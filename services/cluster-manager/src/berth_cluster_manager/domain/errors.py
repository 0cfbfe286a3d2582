"""Errors the domain raises: every one names the field or rule it is about."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FieldError:
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}"


class DomainError(ValueError):
    """A request the domain refuses; the message says why."""


class ValidationFailed(DomainError):
    """Invalid input; ``errors`` holds every bad field, not only the first."""

    def __init__(self, errors: Sequence[FieldError]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(str(e) for e in self.errors))

    def fields(self) -> list[str]:
        return [e.field for e in self.errors]


class InvalidTransition(DomainError):
    """An operation that the cluster's current phase does not allow."""


class LimitExceeded(DomainError):
    """A per-tenant limit (clusters, nodes, namespaces) would be exceeded."""

    def __init__(self, resource: str, limit: int, used: int) -> None:
        self.resource, self.limit, self.used = resource, limit, used
        super().__init__(f"{resource}: tenant limit of {limit} reached ({used} in use)")
