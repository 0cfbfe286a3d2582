"""Validation errors that name each bad field by its full path (``strategy.steps[2].set_weight``).

A rule that is about a field inside the value it checks raises ``FieldErrors`` with paths
relative to that value; ``paths`` turns a pydantic error into ``[(path, message)]`` with those
expanded, and the gateway lists each as its own field."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from pydantic import ValidationError

_NAMED = re.compile(r"^([a-z_][a-z0-9_]*): (.+)$", re.S)
# tags of the release schema's tagged unions: pydantic puts them in an error's location, but
# they are not fields anyone wrote (no model has a field of these names)
UNION_TAGS = frozenset({"rolling", "blue-green", "canary", "SetWeightStep", "PauseStep", "AnalysisStep"})


class FieldErrors(ValueError):
    """One or more bad fields: ``errors`` is ``[(path relative to the value checked, message)]``."""

    def __init__(self, errors: Iterable[tuple[str, str]]) -> None:
        self.errors = list(errors)
        super().__init__("; ".join(f"{f}: {m}" if f else m for f, m in self.errors) or "invalid")


def join(prefix: str, name: str) -> str:
    if not prefix or not name:
        return prefix or name
    return f"{prefix}{name}" if name.startswith("[") else f"{prefix}.{name}"


def path(loc: Sequence[int | str], prefix: str = "") -> str:
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif not (part in UNION_TAGS or part.startswith("function-")):
            out = join(out, part)
    return out


def paths(exc: ValidationError, prefix: str = "") -> list[tuple[str, str]]:
    """``[(field path, message)]`` for each error, ``prefix`` first (``(body)`` for the value itself)."""
    out: list[tuple[str, str]] = []
    for err in exc.errors():
        where = path(err["loc"], prefix)
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, FieldErrors):
            out.extend((join(where, f) or "(body)", m) for f, m in cause.errors)
            continue
        msg = str(err["msg"]).removeprefix("Value error, ")
        # a model-level rule that says which field it is about: "image: not an image reference"
        named = _NAMED.match(msg)
        if named:
            where, msg = join(where, named.group(1)), named.group(2)
        out.append((where or "(body)", msg))
    return out
