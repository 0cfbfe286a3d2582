"""A switch plan: the groups one switch moves, in dependency order, each step's state and
timing, and what operators did with it (resume, rollback). Stored in its own collection."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from berth_schema.dr.spec import SiteRole
from pydantic import BaseModel, Field

from .status import SwitchKind

StepState = Literal["pending", "running", "done", "skipped", "failed", "rolled-back"]
PlanState = Literal["running", "done", "failed", "rolling-back", "rolled-back"]
Action = Literal["started", "failed", "resumed", "rollback", "finished"]


class PlanStep(BaseModel):
    index: int
    group: str
    to_site: SiteRole
    from_site: SiteRole | None = None
    state: StepState = "pending"
    switch_id: str | None = None
    attempts: int = 0
    started_at: datetime | None = None
    traffic_at: datetime | None = None
    healthy_at: datetime | None = None
    finished_at: datetime | None = None
    detail: str = ""

    @property
    def duration_ms(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return round((self.finished_at - self.started_at).total_seconds() * 1000, 1)


class PlanAction(BaseModel):
    at: datetime
    action: Action
    by: str
    reason: str


class SwitchPlan(BaseModel):
    id: str
    tenant: str
    group: str  # the group whose switch the plan carries out
    kind: SwitchKind
    to_site: SiteRole
    reason: str
    requested_by: str
    automatic: bool
    state: PlanState = "running"
    started_at: datetime
    finished_at: datetime | None = None
    failed_step: int | None = None
    failure: str | None = None
    steps: list[PlanStep]
    actions: list[PlanAction] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)  # linked names that do not exist (skipped)

    @property
    def names(self) -> list[str]:
        return [s.group for s in self.steps]

    def act(self, action: Action, *, by: str, reason: str, at: datetime) -> None:
        self.actions = [*self.actions, PlanAction(at=at, action=action, by=by, reason=reason)][-50:]

    def fail(self, step: PlanStep, reason: str, *, at: datetime) -> None:
        step.state, step.finished_at = "failed", at
        step.detail = reason
        self.state, self.failed_step, self.failure = "failed", step.index, f"step {step.index} ({step.group}): {reason}"
        self.act("failed", by="dr-switcher", reason=self.failure, at=at)

    def view(self) -> dict[str, object]:
        """The plan as the PlanView of the schema."""
        data = self.model_dump(mode="json", exclude={"tenant", "missing"})
        for step, raw in zip(self.steps, data["steps"], strict=True):
            raw.pop("attempts", None)
            raw["duration_ms"] = step.duration_ms
        return data
