"""Facts dr-switcher publishes (``berth.evt.dr.*``) and commands it accepts
(``berth.cmd.dr-switcher.*``, sent by the gateway and chatops)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from berth_common.events import command, event
from pydantic import BaseModel, Field

from .spec import GroupSpec

TENANT = Field(min_length=1, max_length=63)
GROUP = Field(min_length=1, max_length=63, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
REASON = Field(min_length=1, max_length=1024, description="why (required: every switch is explained)")
BY = Field(default="unknown", min_length=1, max_length=255)

Site = Literal["primary", "standby"]
State = Literal["active-primary", "degraded", "switching-over", "active-standby", "failing-back", "drill"]
Kind = Literal["failover", "switchover", "failback", "drill", "drill-return"]


# --- commands -------------------------------------------------------------------------
@command("berth.cmd.dr-switcher.create-group.v1", service="dr-switcher", verb="create-group")
class CreateGroup(BaseModel):
    """Create a DR group; ``spec`` is the group document (name, primary, standby, dns/ingress, probe...)."""

    tenant: str = TENANT
    spec: GroupSpec
    requested_by: str = BY


@command("berth.cmd.dr-switcher.update-group.v1", service="dr-switcher", verb="update-group")
class UpdateGroup(BaseModel):
    """Replace a group's spec; its status (active site, health, logs) is kept."""

    tenant: str = TENANT
    group: str = GROUP
    spec: GroupSpec
    requested_by: str = BY


@command("berth.cmd.dr-switcher.delete-group.v1", service="dr-switcher", verb="delete-group")
class DeleteGroup(BaseModel):
    tenant: str = TENANT
    group: str = GROUP
    requested_by: str = BY


@command("berth.cmd.dr-switcher.switchover.v1", service="dr-switcher", verb="switchover")
class Switchover(BaseModel):
    """Move traffic to the peer of the active site (or to ``to``). Refused when the target is
    unhealthy unless ``force``."""

    tenant: str = TENANT
    group: str = GROUP
    reason: str = REASON
    to: Site | None = None
    force: bool = False
    requested_by: str = BY


@command("berth.cmd.dr-switcher.failback.v1", service="dr-switcher", verb="failback")
class Failback(BaseModel):
    """Move traffic back to the primary; refused while the primary is unhealthy unless ``force``."""

    tenant: str = TENANT
    group: str = GROUP
    reason: str = REASON
    force: bool = False
    requested_by: str = BY


@command("berth.cmd.dr-switcher.drill.v1", service="dr-switcher", verb="drill")
class Drill(BaseModel):
    """Switch to the standby and back automatically after ``duration_seconds``."""

    tenant: str = TENANT
    group: str = GROUP
    reason: str = REASON
    duration_seconds: float = Field(default=300.0, gt=0, le=86400)
    requested_by: str = BY


@command("berth.cmd.dr-switcher.resume.v1", service="dr-switcher", verb="resume")
class Resume(BaseModel):
    """Resume a stopped switch plan from the step that failed. ``plan`` defaults to the
    group's stopped plan (see get-group ``stopped_plan`` or switch-history)."""

    tenant: str = TENANT
    group: str = GROUP
    plan: str | None = Field(default=None, min_length=1, max_length=255)
    reason: str = REASON
    requested_by: str = BY


@command("berth.cmd.dr-switcher.rollback.v1", service="dr-switcher", verb="rollback")
class Rollback(BaseModel):
    """Roll back a stopped switch plan: every group it moved goes back to the site it came
    from, in reverse order. ``plan`` defaults to the group's stopped plan."""

    tenant: str = TENANT
    group: str = GROUP
    plan: str | None = Field(default=None, min_length=1, max_length=255)
    reason: str = REASON
    requested_by: str = BY


# --- facts ----------------------------------------------------------------------------
class _GroupFact(BaseModel):
    group: str
    drill: bool = False
    drill_id: str | None = None


@event("berth.dr.group-created.v1", domain="dr", name="group-created")
class GroupCreated(_GroupFact):
    primary: str
    standby: str
    requested_by: str


@event("berth.dr.group-updated.v1", domain="dr", name="group-updated")
class GroupUpdated(_GroupFact):
    requested_by: str


@event("berth.dr.group-deleted.v1", domain="dr", name="group-deleted")
class GroupDeleted(_GroupFact):
    requested_by: str


@event("berth.dr.probe-failed.v1", domain="dr", name="probe-failed")
class ProbeFailed(_GroupFact):
    """A site failed ``failures`` probes in a row (its failure threshold): it is marked down."""

    site: Site
    site_name: str
    failures: int
    threshold: int
    detail: str


@event("berth.dr.probe-recovered.v1", domain="dr", name="probe-recovered")
class ProbeRecovered(_GroupFact):
    site: Site
    site_name: str
    successes: int
    threshold: int


class _SwitchFact(_GroupFact):
    switch_id: str
    kind: Kind
    from_site: Site
    to_site: Site
    reason: str
    requested_by: str
    automatic: bool


@event("berth.dr.switch-started.v1", domain="dr", name="switch-started")
class SwitchStarted(_SwitchFact):
    forced: bool = False


@event("berth.dr.switched.v1", domain="dr", name="switched")
class Switched(_SwitchFact):
    started_at: datetime
    duration_ms: float
    detail: str


@event("berth.dr.switch-failed.v1", domain="dr", name="switch-failed")
class SwitchFailed(_SwitchFact):
    """A switch was refused (``refused``: nothing was touched) or failed while moving traffic."""

    refused: bool


@event("berth.dr.group-state-changed.v1", domain="dr", name="group-state-changed")
class GroupStateChanged(_GroupFact):
    from_state: State | None
    to_state: State
    active: Site
    reason: str


PlanResult = Literal["done", "rolled-back"]


class _PlanFact(_GroupFact):
    """``group`` is the group whose switch the plan carries out; ``steps`` the groups in order."""

    plan_id: str
    kind: Kind
    to_site: Site
    steps: list[str]
    requested_by: str
    automatic: bool


@event("berth.dr.plan-started.v1", domain="dr", name="plan-started")
class PlanStarted(_PlanFact):
    """A switch of linked groups started: dependencies first, each step waits for health."""

    reason: str
    resumed: bool = False


@event("berth.dr.plan-failed.v1", domain="dr", name="plan-failed")
class PlanFailed(_PlanFact):
    """A step failed and the plan stopped there; send ``resume`` or ``rollback``."""

    step: int = Field(description="index of the step that failed")
    step_group: str
    reason: str
    rolling_back: bool = Field(default=False, description="the failure happened while rolling back")


@event("berth.dr.plan-finished.v1", domain="dr", name="plan-finished")
class PlanFinished(_PlanFact):
    result: PlanResult
    duration_ms: float
