"""Queries dr-switcher answers (``berth.api.dr-switcher.<op>``): DR groups, their health and switch log."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from berth_common.events import query
from pydantic import AliasChoices, Field

from ..queries import Name, Page, PageQuery, Reply, TenantQuery
from .messages import Kind, Site, State

__all__ = [
    "DrillView",
    "GetGroup",
    "GroupDetail",
    "GroupHealth",
    "GroupPage",
    "GroupSummary",
    "HealthHistoryEntry",
    "ListGroups",
    "PendingSwitchView",
    "SiteHealthView",
    "SiteSummary",
    "SwitchLogEntryView",
]


class SiteSummary(Reply):
    name: str
    healthy: bool | None = Field(description="None until the site is probed")


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


class GroupPage(Page[GroupSummary]):
    next: str | None = Field(description="the last group's name: pass it as ``after`` for the next page")


@query("dr-switcher", "list-groups", reply=GroupPage)
class ListGroups(PageQuery):
    """The tenant's DR groups in name order, optionally only those in ``state``."""

    tenant: Name  # required: groups are always listed per tenant
    state: State | None = None


class HealthHistoryEntry(Reply):
    at: datetime
    ok: bool
    detail: str


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
