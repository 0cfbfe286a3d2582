"""JSON bodies the gateway reads: parsed with a depth limit (400, never a RecursionError), and
validated strictly (a boolean is not an integer) by the models that own them."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel

from .problems import ApiError

MAX_DEPTH = 32  # far deeper than any body the API or a hook sender produces
M = TypeVar("M", bound=BaseModel)


def depth(value: Any) -> int:
    """How deeply arrays and objects nest in ``value`` (iteratively: no recursion to exhaust)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if deepest > MAX_DEPTH:
            return deepest
        stack.extend((child, level + 1) for child in children)
    return deepest


def too_deep() -> ApiError:
    return ApiError(
        400,
        f"the body nests arrays/objects deeper than {MAX_DEPTH} levels",
        errors=[{"field": "body", "message": f"nested deeper than {MAX_DEPTH} levels"}],
    )


def loads(raw: bytes | str, *, what: str = "the body") -> Any:
    """The parsed JSON document, or a 400 problem naming why it is not one."""
    try:
        data = json.loads(raw)
    except RecursionError:
        raise too_deep() from None
    except ValueError as exc:
        raise ApiError(
            400, f"{what} is not valid JSON: {exc}", errors=[{"field": "body", "message": "invalid JSON"}]
        ) from None
    if depth(data) > MAX_DEPTH:
        raise too_deep()
    return data


def strict(model: type[M], data: Any) -> M:
    """``model`` from JSON-shaped ``data`` in strict mode: no bool for int, no str for int, while
    dates and enums still come from their JSON strings. Raises pydantic's ValidationError."""
    return model.model_validate_json(json.dumps(data), strict=True)
