"""Validation errors that name every bad field by its full path."""

from __future__ import annotations

import re
from collections.abc import Iterable

from pydantic import ValidationError

_NAMED = re.compile(r"^([a-z_][a-z0-9_]*): (.+)$", re.S)


class Invalid(ValueError):
    """One or more bad fields; ``errors`` is ``[(field path, message)]``."""

    def __init__(self, errors: Iterable[tuple[str, str]]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(f"{f}: {m}" for f, m in self.errors) or "invalid")

    def as_dicts(self) -> list[dict[str, str]]:
        return [{"field": f, "message": m} for f, m in self.errors]


def field_path(loc: Iterable[int | str], prefix: str = "") -> str:
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out or "(body)"


def from_validation(exc: ValidationError, prefix: str = "") -> Invalid:
    errors = []
    for err in exc.errors():
        # tagged unions add the tag to the location; it is not a field the user wrote
        loc: list[int | str] = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        msg = str(err["msg"]).removeprefix("Value error, ")
        # a model-level rule says which field it is about: "image: not an image reference"
        m = _NAMED.match(msg)
        if m:
            loc.append(m.group(1))
            msg = m.group(2)
        errors.append((field_path(loc, prefix), msg))
    return Invalid(errors)


def require(errors: list[tuple[str, str]]) -> None:
    if errors:
        raise Invalid(errors)
