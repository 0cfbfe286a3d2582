"""Reading a stored strategy back and describing its steps; the strategies themselves
(rolling, blue-green, canary) are ``berth_schema.release.strategy``."""

from __future__ import annotations

from typing import Any

from berth_schema.release.strategy import PauseStep, SetWeightStep, Step, Strategy
from pydantic import TypeAdapter, ValidationError

from .errors import from_validation

_STRATEGY: TypeAdapter[Strategy] = TypeAdapter(Strategy)


def parse_strategy(raw: dict[str, Any] | str | Strategy) -> Strategy:
    """A strategy from its document (Invalid names each bad field as ``strategy.<path>``)."""
    try:
        return _STRATEGY.validate_python(raw)
    except ValidationError as exc:
        raise from_validation(exc, "strategy") from None


def describe(step: Step) -> str:
    if isinstance(step, SetWeightStep):
        return f"set-weight {step.set_weight}"
    if isinstance(step, PauseStep):
        d = step.pause.duration_seconds
        return f"pause {d:g}s" if d is not None else "pause (until promoted)"
    return f"analysis {step.analysis.success_condition}"
