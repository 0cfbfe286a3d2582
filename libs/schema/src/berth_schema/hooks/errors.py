"""The one error every hook parser raises: it names the offending field."""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import ValidationError


class HookPayloadInvalid(ValueError):
    """The hook body is not what the sender documents; ``field`` names the bad field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def dotted(loc: Sequence[int | str]) -> str:
    """``("alerts", 0, "fingerprint")`` -> ``alerts.0.fingerprint``."""
    return ".".join(str(p) for p in loc) or "body"


def indexed(loc: Sequence[int | str]) -> str:
    """``("events", 0, "target")`` -> ``events[0].target``."""
    out = ""
    for p in loc:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "body"


def first_error(exc: ValidationError, *, style: str = "dotted") -> HookPayloadInvalid:
    err = exc.errors()[0]
    loc = [p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
    field = indexed(loc) if style == "indexed" else dotted(loc)
    return HookPayloadInvalid(field, err["msg"])
