"""Queries dr-switcher answers (``berth.api.dr-switcher.<op>``): DR groups, their health and switch log."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from berth_common.events import query
from pydantic import AliasChoices, Field

from ..queries import Name, Page, PageQuery, Reply, TenantQuery
from .messages import Kind, Site, State

__all__ = [
    "DecisionView",
    "DrillView",
    "GetGroup",
    "GetSwitchHistory",
    "GroupDetail",
    "GroupHealth",
    "GroupPage",
    "GroupSummary",
    "HealthHistoryEntry",
    "ListGroups",
    "PendingSwitchView",
    "PlanActionView",
    "PlanStepView",
    "PlanView",
    "ProbeResultView",
    "SiteHealthView",
    "SiteSummary",
    "SwitchHistory",
    "SwitchHistoryEntry",
    "SwitchLogEntryView",
    "WitnessView",
]


class SiteSummary(Reply):
    name: str
    healthy: bool | None = Field(description="None until the site is probed")


class HealthHistoryEntry(Reply):
    at: datetime
    ok: bool
    detail: str


class ProbeResultView(Reply):
    probe: str
    ok: bool
    detail: str
    latency_ms: float


class WitnessView(Reply):
    """What the witness (a third vantage point) saw of a site."""

    url: str
    site: Site
    at: datetime
    reachable: bool | None = Field(description="None when the witness itself did not answer")
    detail: str
    results: list[ProbeResultView]


class DecisionView(Reply):
    """Why an automatic switch started (or did not): Berth's own failed probe rounds of the
    site and the witness's view."""

    verdict: str
    site: Site
    berth: list[HealthHistoryEntry] = Field(description="Berth's last probe rounds of the site")
    witness: WitnessView | None


class PendingSwitchView(Reply):
    """The switch in progress."""

    id: str
    kind: Kind
    from_site: Site
    to_site: Site
    reason: str
    requested_by: str
    automatic: bool
    forced: bool
    drill_id: str | None
    drill_seconds: float | None
    started_at: datetime
    attempts: int
    plan_id: str | None = None
    decision: DecisionView | None = None


class DrillView(Reply):
    id: str
    reason: str
    requested_by: str
    seconds: float
    started_at: datetime
    ends_at: datetime | None = Field(description="set once traffic is on the standby")


class GroupSummary(Reply):
    """A row of ``list-groups``."""

    tenant: str
    name: str
    description: str
    state: State
    active: Site
    reason: str
    since: datetime
    primary: SiteSummary
    standby: SiteSummary
    mode: list[Literal["dns", "ingress"]] = Field(description="how traffic moves: dns, ingress or both")
    pending: PendingSwitchView | None
    drill: DrillView | None
    hold_down_until: datetime | None
    stopped_plan: str | None = Field(
        default=None, description="a switch plan stopped at a failed step: resume or roll back"
    )
    depends_on: list[str] = Field(default_factory=list)


class GroupPage(Page[GroupSummary]):
    next: str | None = Field(description="the last group's name: pass it as ``after`` for the next page")


@query("dr-switcher", "list-groups", reply=GroupPage)
class ListGroups(PageQuery):
    """The tenant's DR groups in name order, optionally only those in ``state``."""

    tenant: Name  # required: groups are always listed per tenant
    state: State | None = None


class SiteHealthView(Reply):
    healthy: bool | None
    failures: int = Field(description="consecutive failed probe rounds")
    successes: int = Field(description="consecutive successful probe rounds")
    last_at: datetime | None
    last_detail: str
    history: list[HealthHistoryEntry]


class GroupHealth(Reply):
    primary: SiteHealthView
    standby: SiteHealthView


class SwitchLogEntryView(Reply):
    id: str
    kind: Kind
    from_site: Site
    to_site: Site
    reason: str
    requested_by: str
    automatic: bool
    drill_id: str | None
    started_at: datetime
    finished_at: datetime
    result: Literal["switched", "failed", "refused"]
    detail: str
    plan_id: str | None = None
    decision: DecisionView | None = None


class GroupDetail(GroupSummary):
    """``get-group``: the summary plus the spec, both sites' health and the switch log."""

    spec: dict[str, Any] = Field(description="the group document as created (see create-group)")
    health: GroupHealth
    switch_log: list[SwitchLogEntryView]
    resource_version: int


@query("dr-switcher", "get-group", reply=GroupDetail)
class GetGroup(TenantQuery):
    tenant: Name
    group: Name = Field(validation_alias=AliasChoices("group", "name"))


StepState = Literal["pending", "running", "done", "skipped", "failed", "rolled-back"]
PlanState = Literal["running", "done", "failed", "rolling-back", "rolled-back"]


class PlanStepView(Reply):
    """One group's step of a switch plan, with its timing."""

    index: int
    group: str
    to_site: Site
    from_site: Site | None = Field(description="where the group's traffic was when its step started")
    state: StepState
    switch_id: str | None
    started_at: datetime | None
    traffic_at: datetime | None = Field(description="traffic moved")
    healthy_at: datetime | None = Field(description="the group answered its probes on the new side")
    finished_at: datetime | None
    duration_ms: float | None
    detail: str


class PlanActionView(Reply):
    at: datetime
    action: Literal["started", "failed", "resumed", "rollback", "finished"]
    by: str
    reason: str


class PlanView(Reply):
    """A switch of linked groups in dependency order."""

    id: str
    group: str = Field(description="the group whose switch the plan carries out")
    kind: Kind
    to_site: Site
    reason: str
    requested_by: str
    automatic: bool
    state: PlanState
    started_at: datetime
    finished_at: datetime | None
    failed_step: int | None
    failure: str | None
    steps: list[PlanStepView]
    actions: list[PlanActionView]


class SwitchHistoryEntry(SwitchLogEntryView):
    """A switch of the group: who or what triggered it and why, its outcome and timing, the
    evidence of an automatic decision, and the plan it was a step of."""

    trigger: str = Field(description="e.g. 'automatic (probes + witness)', 'manual by alice', 'plan p1 of group front'")
    duration_ms: float
    plan: PlanView | None


class SwitchHistory(Page[SwitchHistoryEntry]):
    """Newest first."""

    next: str | None = Field(description="the last entry's id: pass it as ``after`` for older entries")


@query("dr-switcher", "switch-history", reply=SwitchHistory)
class GetSwitchHistory(PageQuery):
    """The switch history of a group, newest first (switches, refusals and the plans they were part of)."""

    tenant: Name
    group: Name = Field(validation_alias=AliasChoices("group", "name"))
