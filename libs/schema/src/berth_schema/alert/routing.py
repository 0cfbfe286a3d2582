"""Alert routes: label matchers that pick the channels an alert goes to. The put-route
command carries one."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .matchers import Matcher, parse_text


class EscalationStep(BaseModel):
    """Notify ``channels`` when the alert is still firing and unacknowledged ``after_minutes``
    after the previous step (the first step: after the route's own channels were notified)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    after_minutes: int = Field(ge=1, le=10_080)
    channels: list[str] = Field(min_length=1, max_length=16)


class Route(BaseModel):
    """Alerts whose labels satisfy every matcher go to ``channels``. Routes are tried in
    ``order``; the first match wins unless it says ``continue``."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    tenant: str = Field(default="system", min_length=1, max_length=63)
    order: int = 0
    matchers: list[Matcher] = Field(default_factory=list)
    channels: list[str] = Field(min_length=1)
    continue_: bool = Field(default=False, alias="continue")
    escalation: list[EscalationStep] = Field(
        default_factory=list, max_length=8, description="an ordered chain, e.g. chat -> SMS -> call"
    )

    @field_validator("matchers", mode="before")
    @classmethod
    def _parse_text(cls, v: object) -> object:
        return parse_text(v)

    @model_validator(mode="after")
    def _chain(self) -> Route:
        seen = set(self.channels)
        for i, step in enumerate(self.escalation):
            again = seen.intersection(step.channels)
            if again:
                raise ValueError(f"escalation.{i}.channels: {sorted(again)} already notified earlier in the chain")
            seen.update(step.channels)
        return self
