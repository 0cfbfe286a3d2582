"""Scaling policies (弹性伸缩): an alert or a metric threshold moves a workload's replicas or a
node pool's size by a step, within [min, max], at most once per cool-down. The
put-scaling-policy command carries one."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .matchers import Matcher, parse_text


class WorkloadTarget(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["workload"] = "workload"
    cluster: str = Field(min_length=1, max_length=63)
    namespace: str = Field(min_length=1, max_length=63)
    workload_kind: Literal["Deployment", "StatefulSet"] = "Deployment"
    name: str = Field(min_length=1, max_length=253)


class PoolTarget(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["node-pool"] = "node-pool"
    cluster: str = Field(min_length=1, max_length=63)
    pool: str = Field(min_length=1, max_length=63)


class AlertTrigger(BaseModel):
    """Scale when a firing alert matches (``direction`` up) or when it resolves (``on_resolved``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["alert"] = "alert"
    matchers: list[Matcher] = Field(min_length=1)
    on_resolved: Literal["none", "down"] = "none"

    @field_validator("matchers", mode="before")
    @classmethod
    def _parse_text(cls, v: object) -> object:
        return parse_text(v)


class MetricTrigger(BaseModel):
    """Evaluate a PromQL instant query every ``interval_seconds``: above ``scale_up_above`` adds a
    step, below ``scale_down_below`` removes one."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["metric"] = "metric"
    query: str = Field(min_length=1, max_length=4096)
    scale_up_above: float | None = None
    scale_down_below: float | None = None
    interval_seconds: int = Field(default=30, ge=1, le=3600)

    @model_validator(mode="after")
    def _thresholds(self) -> MetricTrigger:
        if self.scale_up_above is None and self.scale_down_below is None:
            raise ValueError("set scale_up_above, scale_down_below or both")
        if (
            self.scale_up_above is not None
            and self.scale_down_below is not None
            and self.scale_down_below >= self.scale_up_above
        ):
            raise ValueError("scale_down_below must be lower than scale_up_above")
        return self


class ScalingPolicy(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    tenant: str = Field(default="system", min_length=1, max_length=63)
    target: WorkloadTarget | PoolTarget = Field(discriminator="kind")
    trigger: AlertTrigger | MetricTrigger = Field(discriminator="type")
    min: int = Field(ge=0, le=10_000)
    max: int = Field(ge=1, le=10_000)
    step: int = Field(default=1, ge=1, le=1000)
    cooldown_seconds: int = Field(default=300, ge=0, le=86_400)
    enabled: bool = True

    @model_validator(mode="after")
    def _bounds(self) -> ScalingPolicy:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) must not exceed max ({self.max})")
        return self
