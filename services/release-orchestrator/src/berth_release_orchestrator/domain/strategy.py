"""Release strategies: rolling (maxSurge/maxUnavailable), blue-green (preview Service,
promote switches the active selector, scale-down delay) and canary (steps of set_weight /
pause / analysis, traffic split by weight, header or cookie through ingress-nginx)."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .analysis import AnalysisSpec
from .errors import Invalid, from_validation

SURGE = r"^([0-9]+|[0-9]{1,3}%)$"
TOKEN = r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Pause(Strict):
    duration_seconds: float | None = Field(default=None, gt=0, le=7 * 86400, description="none: wait for promote")


class SetWeightStep(Strict):
    set_weight: int = Field(ge=0, le=100)


class PauseStep(Strict):
    pause: Pause


class AnalysisStep(Strict):
    analysis: AnalysisSpec


Step = SetWeightStep | PauseStep | AnalysisStep
STEP_KINDS: dict[str, type[BaseModel]] = {"set_weight": SetWeightStep, "pause": PauseStep, "analysis": AnalysisStep}


class Rolling(Strict):
    kind: Literal["rolling"] = "rolling"
    max_surge: str = Field(default="25%", pattern=SURGE)
    max_unavailable: str = Field(default="25%", pattern=SURGE)
    progress_deadline_seconds: int = Field(default=600, ge=10, le=86400)

    @field_validator("max_surge", "max_unavailable", mode="before")
    @classmethod
    def _int_ok(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int) and not isinstance(v, bool) else v


class BlueGreen(Strict):
    kind: Literal["blue-green"] = "blue-green"
    auto_promote: bool = False
    auto_promote_seconds: float | None = Field(default=None, gt=0, le=7 * 86400)
    scale_down_delay_seconds: float = Field(default=30.0, ge=0, le=86400)
    preview_replicas: int | None = Field(default=None, ge=1, le=1000)
    pre_promotion_analysis: AnalysisSpec | None = None
    progress_deadline_seconds: int = Field(default=600, ge=10, le=86400)


class Canary(Strict):
    kind: Literal["canary"] = "canary"
    traffic: Literal["weight", "header", "cookie"] = "weight"
    header: str = Field(default="canary-header", max_length=128, pattern=TOKEN)
    header_value: str | None = Field(default=None, max_length=256)
    cookie: str = Field(default="canary-cookie", max_length=128, pattern=TOKEN)
    canary_replicas: int | None = Field(default=None, ge=1, le=1000, description="header/cookie: fixed canary size")
    steps: list[Step] = Field(default_factory=list)
    max_surge: str = Field(default="25%", pattern=SURGE)
    max_unavailable: str = Field(default="25%", pattern=SURGE)
    progress_deadline_seconds: int = Field(default=600, ge=10, le=86400)


Strategy = Rolling | BlueGreen | Canary
KINDS: dict[str, type[BaseModel]] = {"rolling": Rolling, "blue-green": BlueGreen, "canary": Canary}
DEFAULT_CANARY_STEPS: list[dict[str, Any]] = [{"set_weight": 20}, {"pause": {}}]


def _step(raw: Any, i: int) -> dict[str, Any]:
    where = f"strategy.steps[{i}]"
    if not isinstance(raw, dict):
        raise Invalid([(where, "a step is an object with one of set_weight, pause, analysis")])
    step: dict[str, Any] = {("set_weight" if k == "setWeight" else k): v for k, v in raw.items()}
    raw = step
    keys = [k for k in raw if k in STEP_KINDS]
    unknown = [k for k in raw if k not in STEP_KINDS]
    if unknown:
        raise Invalid([(f"{where}.{unknown[0]}", "unknown step; use set_weight, pause or analysis")])
    if len(keys) != 1:
        raise Invalid([(where, "a step has exactly one of set_weight, pause, analysis")])
    if keys[0] == "pause" and raw["pause"] is None:
        step = {"pause": {}}
    try:
        STEP_KINDS[keys[0]].model_validate(step)
    except ValidationError as exc:
        raise from_validation(exc, where) from None
    return step


def parse_strategy(raw: dict[str, Any]) -> Strategy:
    kind = raw.get("kind", "rolling")
    if kind not in KINDS:
        raise Invalid([("strategy.kind", f"{kind!r} is not one of rolling, blue-green, canary")])
    data = dict(raw)
    if kind == "canary":
        steps = data.get("steps")
        if steps is None:
            steps = DEFAULT_CANARY_STEPS
        if not isinstance(steps, list):
            raise Invalid([("strategy.steps", "a list of steps")])
        data["steps"] = [_step(s, i) for i, s in enumerate(steps)]
    try:
        model: Strategy = KINDS[kind].model_validate(data)  # type: ignore[assignment]
    except ValidationError as exc:
        raise from_validation(exc, "strategy") from None
    errors: list[tuple[str, str]] = []
    if isinstance(model, Rolling | Canary) and _zero(model.max_surge) and _zero(model.max_unavailable):
        errors.append(("strategy.max_unavailable", "max_surge and max_unavailable cannot both be 0"))
    if isinstance(model, BlueGreen) and model.auto_promote and model.auto_promote_seconds is not None:
        errors.append(("strategy.auto_promote_seconds", "give auto_promote or auto_promote_seconds, not both"))
    if isinstance(model, Canary) and model.header_value is not None and model.traffic != "header":
        errors.append(("strategy.header_value", "only header canaries match a header value"))
    if errors:
        raise Invalid(errors)
    return model


def _zero(v: str) -> bool:
    return re.fullmatch(r"0+%?", v) is not None


def describe(step: Step) -> str:
    if isinstance(step, SetWeightStep):
        return f"set-weight {step.set_weight}"
    if isinstance(step, PauseStep):
        d = step.pause.duration_seconds
        return f"pause {d:g}s" if d is not None else "pause (until promoted)"
    return f"analysis {step.analysis.success_condition}"
