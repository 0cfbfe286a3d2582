"""Release strategies: rolling (maxSurge/maxUnavailable), blue-green (preview Service,
promote switches the active selector, scale-down delay) and canary (steps of set_weight /
pause / analysis, traffic split by weight, header or cookie through ingress-nginx).

``Strategy`` is what a create-release command carries: an object with ``kind`` (default
``rolling``) or just the kind's name. A bad field is named by its path inside the strategy
(``steps[2].set_weight``)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    field_validator,
    model_validator,
)

from .analysis import AnalysisSpec
from .errors import FieldErrors, paths

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


STEP_KINDS: dict[str, str] = {"set_weight": "SetWeightStep", "pause": "PauseStep", "analysis": "AnalysisStep"}
STEP_ALIASES = {"setWeight": "set_weight"}


def _step_kind(v: Any) -> str | None:
    if isinstance(v, BaseModel):
        return type(v).__name__
    keys = [k for k in v if k in STEP_KINDS] if isinstance(v, dict) else []
    return STEP_KINDS[keys[0]] if len(keys) == 1 else None


Step = Annotated[
    Annotated[SetWeightStep, Tag("SetWeightStep")]
    | Annotated[PauseStep, Tag("PauseStep")]
    | Annotated[AnalysisStep, Tag("AnalysisStep")],
    Discriminator(
        _step_kind,
        custom_error_type="step",
        custom_error_message="a step has exactly one of set_weight, pause, analysis",
    ),
]


def _step(raw: Any, i: int) -> Any:
    """One canary step as written (``setWeight`` is accepted, ``pause: null`` waits for promote)."""
    where = f"steps[{i}]"
    if isinstance(raw, BaseModel):
        return raw
    if not isinstance(raw, dict):
        raise FieldErrors([(where, "a step is an object with one of set_weight, pause, analysis")])
    step = {STEP_ALIASES.get(k, k): v for k, v in raw.items()}
    unknown = [k for k in step if k not in STEP_KINDS]
    if unknown:
        raise FieldErrors([(f"{where}.{unknown[0]}", "unknown step; use set_weight, pause or analysis")])
    if len(step) != 1:
        raise FieldErrors([(where, "a step has exactly one of set_weight, pause, analysis")])
    if "pause" in step and step["pause"] is None:
        step = {"pause": {}}
    return step


def _default_steps() -> list[SetWeightStep | PauseStep | AnalysisStep]:
    return [SetWeightStep(set_weight=20), PauseStep(pause=Pause())]


def _zero(v: str) -> bool:
    return re.fullmatch(r"0+%?", v) is not None


def _int_ok(v: Any) -> Any:
    return str(v) if isinstance(v, int) and not isinstance(v, bool) else v


class Rolling(Strict):
    kind: Literal["rolling"] = "rolling"
    max_surge: str = Field(default="25%", pattern=SURGE)
    max_unavailable: str = Field(default="25%", pattern=SURGE)
    progress_deadline_seconds: int = Field(default=600, ge=10, le=86400)

    @field_validator("max_surge", "max_unavailable", mode="before")
    @classmethod
    def _int_ok(cls, v: Any) -> Any:
        return _int_ok(v)

    @model_validator(mode="after")
    def _moves(self) -> Rolling:
        if _zero(self.max_surge) and _zero(self.max_unavailable):
            raise FieldErrors([("max_unavailable", "max_surge and max_unavailable cannot both be 0")])
        return self


class BlueGreen(Strict):
    kind: Literal["blue-green"] = "blue-green"
    auto_promote: bool = False
    auto_promote_seconds: float | None = Field(default=None, gt=0, le=7 * 86400)
    scale_down_delay_seconds: float = Field(default=30.0, ge=0, le=86400)
    preview_replicas: int | None = Field(default=None, ge=1, le=1000)
    pre_promotion_analysis: AnalysisSpec | None = None
    progress_deadline_seconds: int = Field(default=600, ge=10, le=86400)

    @model_validator(mode="after")
    def _one_promotion(self) -> BlueGreen:
        if self.auto_promote and self.auto_promote_seconds is not None:
            raise FieldErrors([("auto_promote_seconds", "give auto_promote or auto_promote_seconds, not both")])
        return self


class Canary(Strict):
    kind: Literal["canary"] = "canary"
    traffic: Literal["weight", "header", "cookie"] = "weight"
    header: str = Field(default="canary-header", max_length=128, pattern=TOKEN)
    header_value: str | None = Field(default=None, max_length=256)
    cookie: str = Field(default="canary-cookie", max_length=128, pattern=TOKEN)
    canary_replicas: int | None = Field(default=None, ge=1, le=1000, description="header/cookie: fixed canary size")
    steps: list[Step] = Field(
        default_factory=lambda: _default_steps(),
        max_length=100,
        description="set_weight / pause / analysis steps; default: 20% then wait for promote",
    )
    max_surge: str = Field(default="25%", pattern=SURGE)
    max_unavailable: str = Field(default="25%", pattern=SURGE)
    progress_deadline_seconds: int = Field(default=600, ge=10, le=86400)

    @model_validator(mode="before")
    @classmethod
    def _steps_as_written(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "steps" not in data:
            return data
        steps = data["steps"]
        if steps is None:
            return {k: v for k, v in data.items() if k != "steps"}  # the default steps
        if not isinstance(steps, list):
            raise FieldErrors([("steps", "a list of steps")])
        return {**data, "steps": [_step(s, i) for i, s in enumerate(steps)]}

    @field_validator("max_surge", "max_unavailable", mode="before")
    @classmethod
    def _int_ok(cls, v: Any) -> Any:
        return _int_ok(v)

    @model_validator(mode="after")
    def _coherent(self) -> Canary:
        errors: list[tuple[str, str]] = []
        if _zero(self.max_surge) and _zero(self.max_unavailable):
            errors.append(("max_unavailable", "max_surge and max_unavailable cannot both be 0"))
        if self.header_value is not None and self.traffic != "header":
            errors.append(("header_value", "only header canaries match a header value"))
        if errors:
            raise FieldErrors(errors)
        return self


KINDS: dict[str, type[BaseModel]] = {"rolling": Rolling, "blue-green": BlueGreen, "canary": Canary}


def _strategy(raw: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """The shorthand (``"canary"``) and the default kind, then errors named by their path
    inside the strategy."""
    if isinstance(raw, str):
        raw = {"kind": raw}
    if isinstance(raw, dict):
        kind = raw.get("kind", "rolling")
        if kind not in KINDS:
            raise FieldErrors([("kind", f"{kind!r} is not one of rolling, blue-green, canary")])
        raw = {**raw, "kind": kind}
    try:
        return handler(raw)
    except ValidationError as exc:
        raise FieldErrors(paths(exc)) from None


Strategy = Annotated[Rolling | BlueGreen | Canary, Field(discriminator="kind"), WrapValidator(_strategy)]
